from gandetect.cli import main

main()
