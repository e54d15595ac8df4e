"""Peak memory of `gandetect fit` over 50,000 images against the same fit over 5,000.

The images are the held-out MNIST digits of fixtures/mnist, repeated with a
one-pixel shift per copy so that ids and values differ, saved as .npy files
of 1,000 images each. Each fit runs in a fresh process; its peak resident
memory comes from getrusage of that process. Median of 5 runs per size.
Target: at most 1.2x.

    python benchmarks/fit_memory.py
"""

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import GANDETECT, ROOT

REPEATS = 5
PER_FILE = 1_000

# Runs the command given as arguments and prints its peak resident memory in KiB.
MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def write_images(folder: Path, n_images: int) -> None:
    digits = np.load(ROOT / "fixtures" / "mnist" / "real-heldout.npz")["images"]
    folder.mkdir()
    for start in range(0, n_images, PER_FILE):
        index = np.arange(start, start + PER_FILE)
        images = digits[index % len(digits)]
        shifts = (index // len(digits)) % 4
        images = np.stack([np.roll(image, shift, axis=1) for image, shift in zip(images, shifts)])
        np.save(folder / f"{start // PER_FILE:03d}.npy", images)


def peak_memory_mib(folder: Path, output: Path) -> float:
    command = [*GANDETECT, "fit", str(folder), "-o", str(output), "--workers", "1"]
    runs = []
    for _ in range(REPEATS):
        printed = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
        runs.append(int(printed.stdout) / 1024)
    return statistics.median(runs)


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        small, large = root / "5000", root / "50000"
        write_images(small, 5_000)
        write_images(large, 50_000)
        baseline = peak_memory_mib(small, root / "small.json")
        ours = peak_memory_mib(large, root / "large.json")
    print("fit peak resident memory, one worker")
    print(f"  baseline (5,000 images): {baseline:.1f} MiB")
    print(f"  50,000 images: {ours:.1f} MiB")
    print(f"  ratio 50,000 / 5,000: {ours / baseline:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
