"""Helpers shared by the benchmark scripts: timing whole commands, median of repeats."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

GANDETECT = [sys.executable, "-m", "gandetect"]
ROOT = Path(__file__).resolve().parent.parent


def time_command(command: list[str], repeats: int = 5) -> float:
    """Median wall time in seconds of running ``command`` ``repeats`` times, output discarded."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(claim: str, baseline_name: str, baseline: float, ours: float, target: str) -> None:
    """Print one claim: baseline, gandetect, and their ratio."""
    print(f"{claim}")
    print(f"  baseline ({baseline_name}): {baseline:.3f} s")
    print(f"  gandetect: {ours:.3f} s")
    print(f"  ratio gandetect / baseline: {ours / baseline:.2f} (target {target})")
