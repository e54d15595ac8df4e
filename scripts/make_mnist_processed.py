"""Derive post-processed MNIST fixture sets from the committed fixtures.

Reads only files under ``fixtures/mnist/`` and writes:

- ``laundered/``: the lsgan, wgan-gp and mlp-gan float samples, read from the
  ``samples`` array of ``NAME.npz`` that pack_fixtures.py writes. Each is mapped
  to [0, 1], values below 0.05 become exactly 0 and values above 0.95 exactly 1,
  and the result is quantised to 8 bits with ``round(x * 255)``. The files are
  named ``lsgan-0000.png``, ``wgan-gp-0000.png`` and ``mlp-gan-0000.png``
  onwards, 256 per model.
- ``real-jpeg85/``: each PNG in ``real/`` encoded as a grayscale JPEG of quality
  85 with pillow, decoded again and written back as an 8-bit PNG, so the PNG
  contains the JPEG artefacts. Same names as ``real/``.
- ``real-shift/``: each PNG in ``real/`` shifted right by one pixel. The
  rightmost column is dropped and the new leftmost column is 0. Same names.

Run from the repository root after the other make_/train_ scripts and
pack_fixtures.py. It takes a few seconds and needs numpy and pillow but not torch:

    python scripts/make_mnist_processed.py
"""

import io

import numpy as np
from PIL import Image

import mnist_common

LAUNDER_LOW = 0.05
LAUNDER_HIGH = 0.95
JPEG_QUALITY = 85
# Value range of each generator's float samples, mapped linearly to [0, 1].
GENERATOR_RANGES = {"lsgan": (-1.0, 1.0), "wgan-gp": (-1.0, 1.0), "mlp-gan": (0.0, 1.0)}


def launder(samples, value_range):
    """Map samples to [0, 1], snap values near 0 and 1 to the ends, and quantise to uint8."""
    low, high = value_range
    unit = (np.asarray(samples, dtype=np.float64) - low) / (high - low)
    unit = np.where(unit < LAUNDER_LOW, 0.0, unit)
    unit = np.where(unit > LAUNDER_HIGH, 1.0, unit)
    return mnist_common.to_uint8(unit)


def jpeg_round_trip(image):
    """Return a uint8 image after encoding it as a grayscale JPEG and decoding it again."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("L"), dtype=np.uint8)


def shift_right(image):
    """Return the image shifted right by one column, with a zero first column."""
    shifted = np.roll(image, 1, axis=1)
    shifted[:, 0] = 0
    return shifted


def main():
    fixtures = mnist_common.FIXTURES_DIR

    for name, value_range in GENERATOR_RANGES.items():
        with np.load(fixtures / f"{name}.npz", allow_pickle=False) as packed:
            samples = packed["samples"]
        mnist_common.write_png_folder(fixtures / "laundered", launder(samples, value_range), prefix=f"{name}-")
        print(f"laundered: wrote {len(samples)} {name} PNGs")

    real = mnist_common.read_png_folder(fixtures / "real")
    mnist_common.write_png_folder(fixtures / "real-jpeg85", [jpeg_round_trip(image) for image in real])
    mnist_common.write_png_folder(fixtures / "real-shift", [shift_right(image) for image in real])
    print(f"real-jpeg85, real-shift: wrote {len(real)} PNGs each")


if __name__ == "__main__":
    main()
