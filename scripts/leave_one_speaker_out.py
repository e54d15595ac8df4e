"""Leave-one-speaker-out run for the speech profile: how often real speech by an unheard voice is flagged.

For each of the six Asterisk voice packages, fits a speech profile on the
training prompts of the other five (scripts/build_speech_profile.py's data
and split), then scores the left-out package's held-out (test) prompts and
prints the share of files flagged at level 0.01. Needs build/speech from
scripts/build_speech_dataset.py. Takes about 20 minutes on 2 cores.

    python scripts/leave_one_speaker_out.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_speech_profile import ROOT, UNPACKED, training_files  # noqa: E402

from gandetect.engine import Model, fit_profile, score_paths  # noqa: E402
from gandetect.profile import Profile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    parser.add_argument("--level", type=float, default=0.01)
    arguments = parser.parse_args()

    split = json.loads((ROOT / "fixtures" / "speech" / "split.json").read_text())
    rows = []
    for speaker, info in split["speakers"].items():
        document = fit_profile(
            kind="melspec",
            files=training_files(split, leave_out=speaker),
            representation=split["mel_settings"],
            description=f"speech without {speaker}",
        )
        model = Model.from_profile(Profile(document, f"without {speaker}"))
        test_files = [
            UNPACKED / speaker / info["voice_folder"] / entry["path"]
            for entry in split["files"]
            if entry["speaker"] == speaker and entry["role"] == "test"
        ]
        results = [
            result
            for result in score_paths(test_files, model, level=arguments.level)
            if result.counted and result.error is None
        ]
        flagged = sum(result.flagged for result in results)
        row = {
            "speaker": speaker,
            "voice": info["voice"],
            "files": len(results),
            "flagged": flagged,
            "flagged_share": flagged / len(results) if results else None,
        }
        rows.append(row)
        print(f"{speaker:32s} {info['voice'][:28]:28s} {row['files']:4d} files, {row['flagged_share']:.3f} flagged", flush=True)

    if arguments.json:
        arguments.json.write_text(json.dumps({"level": arguments.level, "speakers": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
