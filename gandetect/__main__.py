from gandetect.launch import main

main()
