"""`gandetect batch` over 10,000 MNIST-sized PNGs against a plain Pillow decode loop.

All run in a fresh interpreter over the same files; median of 5 runs.
Targets: one worker at most 3x the decode loop; two workers at least 1.6x
faster than one.

    python benchmarks/batch_png.py [--files N]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from common import GANDETECT, ROOT, report, time_command

DECODE_LOOP = """
import sys, pathlib, numpy
from PIL import Image
for path in sorted(pathlib.Path(sys.argv[1]).glob('*.png')):
    with Image.open(path) as image:
        numpy.asarray(image, dtype=numpy.float64) / 255.0
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    arguments = parser.parse_args()

    digits = np.load(ROOT / "fixtures" / "mnist" / "real-heldout.npz")["images"]
    with tempfile.TemporaryDirectory() as folder:
        for i in range(arguments.files):
            Image.fromarray(digits[i % len(digits)], mode="L").save(Path(folder) / f"{i:05d}.png")
        baseline = time_command([sys.executable, "-c", DECODE_LOOP, folder])
        ours = time_command([*GANDETECT, "batch", folder, "--json", "--workers", "1"])
        two = time_command([*GANDETECT, "batch", folder, "--json", "--workers", "2"])
    report(f"batch over {arguments.files} PNGs, one worker", "Pillow decode loop", baseline, ours, "<= 3.0")
    print(f"  two workers: {two:.3f} s, {ours / two:.2f}x faster than one (target >= 1.6)")


if __name__ == "__main__":
    main()
