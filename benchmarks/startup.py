"""Cold start: `gandetect score one.png` against `python -c "import numpy, PIL.Image"`.

Median of 5 runs each, in the same run of this script. Target: at most 2.0x.

    python benchmarks/startup.py
"""

import sys

from common import GANDETECT, ROOT, report, time_command

REPEATS = 5


def main() -> None:
    image = ROOT / "fixtures" / "mnist" / "real" / "0000.png"
    baseline = time_command([sys.executable, "-c", "import numpy, PIL.Image"], REPEATS)
    ours = time_command([*GANDETECT, "score", str(image)], REPEATS)
    report("cold score of one PNG", "import numpy, PIL.Image", baseline, ours, "<= 2.0")


if __name__ == "__main__":
    main()
