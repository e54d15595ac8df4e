"""Build gandetect's bundled speech profile, gandetect/data/speech.json.

Fits a mel-spectrogram profile on the training 80% of the Asterisk voice
prompts that scripts/build_speech_dataset.py unpacked into build/speech/root
and split (fixtures/speech/split.json, which also holds the mel settings and
scaling bounds). Run that script first; the Debian packages are a dev-time
source only. Takes a few minutes on 2 cores.

    python scripts/build_speech_profile.py [--output PATH] [--leave-out PACKAGE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gandetect.engine import fit_profile
from gandetect.profile import save_profile

ROOT = Path(__file__).resolve().parent.parent
UNPACKED = ROOT / "build" / "speech" / "root"


def training_files(split: dict, leave_out: str | None = None) -> list[tuple[Path, str]]:
    """(path, id) of every training prompt, ids as ``package/relative path``."""
    files = []
    for entry in split["files"]:
        if entry["role"] != "train" or entry["speaker"] == leave_out:
            continue
        folder = split["speakers"][entry["speaker"]]["voice_folder"]
        files.append((UNPACKED / entry["speaker"] / folder / entry["path"], f"{entry['speaker']}/{entry['path']}"))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "gandetect" / "data" / "speech.json")
    parser.add_argument("--leave-out", help="Package (speaker) to leave out of the fit.")
    arguments = parser.parse_args()

    split = json.loads((ROOT / "fixtures" / "speech" / "split.json").read_text())
    files = training_files(split, arguments.leave_out)
    missing = [str(path) for path, _ in files if not path.exists()]
    if missing:
        raise SystemExit(f"{len(missing)} training files are missing, e.g. {missing[0]}; run scripts/build_speech_dataset.py")
    speakers = sorted({file_id.split("/")[0] for _, file_id in files})
    document = fit_profile(
        kind="melspec",
        files=files,
        representation=split["mel_settings"],
        description=(
            f"Speech: {len(files)} training prompts of fixtures/speech/split.json by "
            f"{len(speakers)} Asterisk voice packages"
            + (f", {arguments.leave_out} left out" if arguments.leave_out else "")
        ),
    )
    save_profile(document, arguments.output)
    training = document["training"]
    print(
        f"wrote {arguments.output}: {training['n_files']} prompts, {training['n_reference']} reference "
        f"and {training['n_calibration']} calibration patches"
    )


if __name__ == "__main__":
    main()
