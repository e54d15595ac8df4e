"""Throughput on a stack: `gandetect score stack.npy --json` over 10,000 28x28 samples.

Prints samples per second, start-up included, median of 5 runs, against the
time to load the same stack with numpy in a fresh interpreter. Target: at
least 20,000 samples per second on one core.

    python benchmarks/npy_throughput.py
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

from common import GANDETECT, ROOT, report, time_command

N_SAMPLES = 10_000


def main() -> None:
    digits = np.load(ROOT / "fixtures" / "mnist" / "real-heldout.npz")["images"]
    stack = digits[np.arange(N_SAMPLES) % len(digits)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stack.npy"
        np.save(path, stack)
        baseline = time_command([sys.executable, "-c", f"import numpy; numpy.load({str(path)!r})"])
        ours = time_command([*GANDETECT, "score", str(path), "--json"])
    report(f"score a stack of {N_SAMPLES} samples", "load it with numpy", baseline, ours, "n/a")
    print(f"  samples per second, start-up included: {N_SAMPLES / ours:,.0f} (target >= 20,000)")


if __name__ == "__main__":
    main()
