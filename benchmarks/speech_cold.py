"""Speech: one minute of 8 kHz audio, scored cold, against librosa's mel-spectrogram in-process.

Prints, median of 5 runs each, in the same run of this script:
- cold `gandetect score minute.wav` (start-up, librosa import, first call),
- `librosa.feature.melspectrogram` on the same audio in a warm process,
- the cold cost of `import librosa` alone, which no scoring of audio avoids.
Target: scoring at most 2x the in-process mel-spectrogram time.

    python benchmarks/speech_cold.py
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from common import GANDETECT, report, time_command

RATE = 8000


def main() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(60 * RATE) / RATE
    audio = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t)) + rng.normal(0, 0.01, t.size)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "minute.wav"
        soundfile.write(path, audio, RATE)
        ours = time_command([*GANDETECT, "score", str(path)])
        import_cost = time_command([sys.executable, "-c", "import librosa, librosa.feature"])

    import librosa

    librosa.feature.melspectrogram(y=audio[:RATE], sr=RATE, n_fft=1024, hop_length=160, n_mels=64)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        librosa.feature.melspectrogram(y=audio, sr=RATE, n_fft=1024, hop_length=160, n_mels=64)
        times.append(time.perf_counter() - start)
    baseline = statistics.median(times)
    report("cold score of one minute of 8 kHz speech", "warm librosa melspectrogram", baseline, ours, "<= 2.0")
    print(f"  cold `import librosa, librosa.feature` alone: {import_cost:.3f} s")


if __name__ == "__main__":
    main()
