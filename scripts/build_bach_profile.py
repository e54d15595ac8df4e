"""Build gandetect's bundled Bach chorale profile, gandetect/data/bach.json.

Fits a piano-roll profile on the training 80% of the deduplicated Bach
chorales that scripts/build_bach_dataset.py wrote as MIDI to build/bach/train/
(split recorded in fixtures/bach/split.json). Run that script first; it needs
music21, a dev-time dependency only. Takes about half a minute.

    python scripts/build_bach_profile.py [--train DIR] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gandetect.engine import fit_profile
from gandetect.profile import save_profile

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=ROOT / "build" / "bach" / "train")
    parser.add_argument("--output", type=Path, default=ROOT / "gandetect" / "data" / "bach.json")
    arguments = parser.parse_args()

    split = json.loads((ROOT / "fixtures" / "bach" / "split.json").read_text())
    files = sorted(arguments.train.glob("*.mid"))
    if len(files) != len(split["train"]):
        raise SystemExit(
            f"{arguments.train} contains {len(files)} MIDI files but the split lists "
            f"{len(split['train'])}; rerun scripts/build_bach_dataset.py"
        )
    document = fit_profile(
        kind="pianoroll",
        files=[(path, path.name) for path in files],
        description=(
            f"Bach chorales: the {len(files)} training pieces of fixtures/bach/split.json "
            f"({split['source']}), as 64-step patches"
        ),
    )
    save_profile(document, arguments.output)
    training = document["training"]
    print(
        f"wrote {arguments.output}: {training['n_files']} pieces, {training['n_reference']} reference "
        f"and {training['n_calibration']} calibration patches"
    )


if __name__ == "__main__":
    main()
