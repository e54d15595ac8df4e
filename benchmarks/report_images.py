"""`gandetect report` over 1,000 MNIST-sized PNGs against `gandetect compare` plus a figure floor.

The floor is a fresh interpreter that imports matplotlib with the Agg
backend and saves one empty default-size figure as PNG per plot that the
report draws, counted from the report itself. Everything runs in this
script over the same files; median of 5 runs each.
Target: report at most 3x (compare + floor).

    python benchmarks/report_images.py [--files N]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from common import GANDETECT, ROOT, report, time_command

FIGURE_FLOOR = """
import io, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
for _ in range(int(sys.argv[1])):
    figure = plt.figure()
    figure.savefig(io.BytesIO(), format="png")
    plt.close(figure)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1_000)
    arguments = parser.parse_args()

    digits = np.load(ROOT / "fixtures" / "mnist" / "real-heldout.npz")["images"]
    with tempfile.TemporaryDirectory() as folder:
        images = Path(folder) / "images"
        images.mkdir()
        for i in range(arguments.files):
            Image.fromarray(digits[i % len(digits)], mode="L").save(images / f"{i:05d}.png")
        output = Path(folder) / "report.html"

        compare = time_command([*GANDETECT, "compare", str(images)])
        ours = time_command([*GANDETECT, "report", str(images), "-o", str(output)])
        plots = output.read_text(encoding="utf-8").count('class="plot"')
        floor = time_command([sys.executable, "-c", FIGURE_FLOOR, str(plots)])

    print(f"compare: {compare:.3f} s; floor of {plots} empty figures: {floor:.3f} s")
    report(
        f"report over {arguments.files} PNGs, one process",
        "compare + figure floor",
        compare + floor,
        ours,
        "<= 3.0",
    )


if __name__ == "__main__":
    main()
