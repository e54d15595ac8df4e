"""In-process cost of scoring one file against the library call that only decodes it.

Both sides run warm in this process (a first call loads profiles and
caches), median of 21 runs each:
- one minute of 8 kHz speech (the held-out Asterisk prompts of
  fixtures/speech, joined): `gandetect.engine.score_paths` against
  `librosa.feature.melspectrogram` with the same settings. Target: at most 2x.
- one Bach chorale MIDI of fixtures/bach: `score_paths` against
  `pretty_midi.PrettyMIDI(path).get_piano_roll()`. Target: at most 1.5x.
  Timed twice: first in the fresh process, then after the speech part.
  Parsing MIDI allocates large temporary arrays, and after the speech
  part's large allocations glibc's malloc serves them without new pages,
  which makes parsing (the baseline) about twice as fast.

    python benchmarks/in_process.py
"""

import statistics
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import pretty_midi
import soundfile

from common import ROOT, report
from gandetect.engine import ProfileChooser, score_paths

RATE = 8000
REPEATS = 21


def median_time(function) -> float:
    function()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_minute_of_speech(folder: Path) -> tuple[Path, np.ndarray]:
    pieces = []
    for path in sorted((ROOT / "fixtures" / "speech" / "real-heldout").glob("*.wav")):
        audio, rate = soundfile.read(path, dtype="float64", always_2d=True)
        pieces.append(librosa.resample(audio.mean(axis=1), orig_sr=rate, target_sr=RATE))
    audio = np.concatenate(pieces)
    audio = np.resize(audio, 60 * RATE)
    path = folder / "minute.wav"
    soundfile.write(path, audio, RATE, subtype="PCM_16")
    audio, _ = soundfile.read(path, dtype="float64")
    return path, audio


def chorale(chooser: ProfileChooser, when: str) -> None:
    path = ROOT / "fixtures" / "bach" / "real-heldout" / "bwv101.7.mid"
    baseline = median_time(lambda: pretty_midi.PrettyMIDI(str(path)).get_piano_roll())
    ours = median_time(lambda: list(score_paths([path], chooser)))
    report(f"score one chorale ({path.name}), in process, {when}", "PrettyMIDI(path).get_piano_roll()", baseline, ours, "<= 1.5")


def main() -> None:
    chooser = ProfileChooser()
    chorale(chooser, "fresh process")
    with tempfile.TemporaryDirectory() as folder:
        path, audio = one_minute_of_speech(Path(folder))
        baseline = median_time(
            lambda: librosa.feature.melspectrogram(y=audio, sr=RATE, n_fft=1024, hop_length=160, n_mels=64)
        )
        ours = median_time(lambda: list(score_paths([path], chooser)))
        report("score one minute of 8 kHz speech, in process", "librosa.feature.melspectrogram", baseline, ours, "<= 2.0")

    chorale(chooser, "after the speech part")


if __name__ == "__main__":
    main()
