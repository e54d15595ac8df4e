"""Read image files and arrays into batches of samples with values in [0, 1].

Rules a user can rely on:

* Grayscale images keep their exact levels: 8-bit values are divided by 255,
  16-bit values by 65535, bilevel images give 0 and 1.
* Colour images whose channels are all equal are read from one channel, so a
  grayscale digit saved as RGB keeps its exact values. Other colour images
  are converted with the ITU-R 601-2 luma transform (Pillow's ``"L"`` mode)
  and a warning says so.
* Transparency is composited onto black, the background of MNIST-like data,
  and a warning says so when any pixel is not fully opaque.
* Arrays are loaded with ``allow_pickle=False``. A 2-D array is one sample
  ``(rows, columns)``; a 3-D array is a stack ``(n, rows, columns)``; a 4-D
  array with a channel axis of size 1, ``(n, 1, rows, columns)`` or
  ``(n, rows, columns, 1)``, is a stack too.
* The value range of an array is recognised from its dtype and values (see
  :func:`infer_value_range`) or set by the caller.
"""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from dataclasses import dataclass, field

import numpy as np

from gandetect.errors import InputError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
ARRAY_SUFFIXES = frozenset({".npy", ".npz"})
VALUE_RANGES = ("auto", "0-1", "-1-1", "0-255")

# Caps that keep a hostile file from exhausting memory. Each can be raised
# through the keyword arguments of the readers below.
DEFAULT_MAX_PIXELS = 1 << 24
DEFAULT_MAX_ARRAY_ELEMENTS = 1 << 28

# Keys tried, in order, when an .npz file contains several arrays and no key is given.
NPZ_DEFAULT_KEYS = ("images", "samples", "x", "arr_0")


@dataclass
class Batch:
    """Samples read from one file, all of one shape.

    Attributes
    ----------
    values : np.ndarray of shape (n, rows, columns), dtype float64
        Sample values in [0, 1].
    sources : list of str
        One label per sample: the path for a single image, ``path[i]`` for
        sample ``i`` of a stack.
    path : str
        The file the samples came from.
    notes : list of str
        Conversions applied while reading (colour, alpha, value range).
    grouped : bool
        The samples are consecutive patches of one recording or piece, so
        fitting keeps them on one side of the reference/calibration split
        and scoring adds a result for the whole file.
    """

    values: np.ndarray
    sources: list[str]
    path: str
    notes: list[str] = field(default_factory=list)
    grouped: bool = False

    def __len__(self) -> int:
        return self.values.shape[0]

    def column_offset(self, index: int) -> int:
        """Column of the whole recording where sample ``index`` starts (0 unless grouped)."""
        return index * self.values.shape[2] if self.grouped else 0


def split_columns(values: np.ndarray, width: int) -> np.ndarray:
    """Cut a 2-D array into consecutive patches of ``width`` columns.

    Columns after the last whole patch are dropped. An array narrower than
    one patch gives one patch padded with 0 on the right.

    Parameters
    ----------
    values : np.ndarray of shape (rows, columns)

    Returns
    -------
    np.ndarray of shape (n_patches, rows, width)
    """
    rows, columns = values.shape
    if columns < width:
        padded = np.zeros((rows, width))
        padded[:, :columns] = values
        return padded[np.newaxis]
    n_patches = columns // width
    trimmed = values[:, : n_patches * width]
    return trimmed.reshape(rows, n_patches, width).transpose(1, 0, 2).copy()


def read_samples(
    path: str | os.PathLike,
    *,
    value_range: str = "auto",
    npz_key: str | None = None,
    sample_shape: tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_array_elements: int = DEFAULT_MAX_ARRAY_ELEMENTS,
) -> Batch:
    """Read an image or array file into a :class:`Batch`.

    Parameters
    ----------
    path : path-like
        An image (PNG, JPEG, BMP, TIFF, WebP) or an array (``.npy``, ``.npz``).
    value_range : {"auto", "0-1", "-1-1", "0-255"}
        Value range of array inputs; ``"auto"`` recognises it. Images always
        use their bit depth.
    npz_key : str, optional
        Array to read from an ``.npz`` file holding several.
    sample_shape : (rows, columns), optional
        Reshape each sample of a flattened array, such as ``(n, 784)``, to this shape.
    max_pixels, max_array_elements : int
        Caps on the declared size of an image and of an array.

    Returns
    -------
    Batch
        Values of shape (n, rows, columns) in [0, 1].

    Raises
    ------
    InputError
        The file is missing, empty, damaged, of an unknown type, too large,
        contains NaN or infinite values, or values outside the value range.
    """
    path_text = os.fsdecode(path)
    if value_range not in VALUE_RANGES:
        raise InputError(
            f"{path_text}: invalid value range {value_range!r}; use one of {', '.join(VALUE_RANGES)}"
        )

    suffix = os.path.splitext(path_text)[1].lower()
    check_readable(path)

    if suffix in ARRAY_SUFFIXES:
        array, notes = _read_array_file(path, path_text, suffix, npz_key, max_array_elements)
        return _batch_from_array(array, path_text, value_range, sample_shape, notes)
    if suffix in IMAGE_SUFFIXES:
        return _read_image(path, path_text, max_pixels)
    if suffix in (".mid", ".midi", ".wav", ".flac", ".ogg"):
        raise InputError(
            f"{path_text}: {suffix} files are not images; score them without --profile or --kind "
            "image, or with a piano-roll or speech profile"
        )
    raise InputError(
        f"{path_text}: unsupported file type {suffix or '(no extension)'!r}; "
        "use an image (png, jpg, bmp, tif, webp) or an array (npy, npz)"
    )


def check_readable(path: str | os.PathLike) -> None:
    """Raise InputError unless ``path`` is an existing, non-empty file that may be read."""
    source = os.fsdecode(path)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{source}: file not found") from None
    except PermissionError:
        raise InputError(f"{source}: permission denied") from None
    except OSError as error:
        raise InputError(f"{source}: cannot read file ({error.strerror or error})") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(f"{source}: is a directory; use 'gandetect batch' for folders")
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"{source}: not a regular file (a pipe, device or socket); copy the data to a file first")
    if status.st_size == 0:
        raise InputError(f"{source}: file is empty")


def batch_from_array(
    array: np.ndarray,
    *,
    source: str = "array",
    value_range: str = "auto",
    sample_shape: tuple[int, int] | None = None,
) -> Batch:
    """Wrap an in-memory array as a :class:`Batch`, with the same rules as array files.

    Parameters
    ----------
    array : np.ndarray of shape (rows, columns) or (n, rows, columns)
        One sample or a stack, in a value range that :func:`infer_value_range`
        recognises or that ``value_range`` sets.
    source : str
        Label used in results and messages.
    """
    array = np.asarray(array)
    return _batch_from_array(array, source, value_range, sample_shape, [])


def infer_value_range(array: np.ndarray, source: str = "array") -> str:
    """Recognise the value range of an array from its dtype and values.

    Booleans are 0/1. ``uint8`` is 0-255 and ``uint16`` is 0-65535 (reported
    as ``"0-65535"``). Other arrays are ``"0-1"`` when every value lies in
    [0, 1], ``"-1-1"`` when they lie in [-1, 1] and some are negative, and
    ``"0-255"`` when they lie in [0, 255] and some exceed 1.

    Raises
    ------
    InputError
        The values fit none of these ranges.
    """
    if array.dtype == np.bool_:
        return "0-1"
    if array.dtype == np.uint8:
        return "0-255"
    if array.dtype == np.uint16:
        return "0-65535"
    if array.size == 0:
        return "0-1"

    low = float(array.min())
    high = float(array.max())
    if low >= 0.0 and high <= 1.0:
        return "0-1"
    if low >= -1.0 and high <= 1.0:
        return "-1-1"
    if low >= 0.0 and high <= 255.0:
        return "0-255"
    raise InputError(
        f"{source}: values span [{low:g}, {high:g}], which is none of [0, 1], [-1, 1] "
        "or [0, 255]; rescale the array or pass --value-range"
    )


def _batch_from_array(
    array: np.ndarray,
    source: str,
    value_range: str,
    sample_shape: tuple[int, int] | None,
    notes: list[str],
) -> Batch:
    array, is_stack = _as_stack(array, source, sample_shape)
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            n_nan = int(np.isnan(array).sum())
            n_inf = int(bad.sum()) - n_nan
            raise InputError(
                f"{source}: contains {n_nan} NaN and {n_inf} infinite values; "
                "only finite values can be scored"
            )

    detected = infer_value_range(array, source) if value_range == "auto" else value_range
    values = _scale_to_unit(array, detected, source)
    if value_range == "auto" and detected != "0-1":
        notes = [*notes, f"value range {detected} recognised and scaled to [0, 1]"]

    if is_stack:
        sources = [f"{source}[{i}]" for i in range(array.shape[0])]
    else:
        sources = [source]
    return Batch(values=values, sources=sources, path=source, notes=notes)


def _as_stack(
    array: np.ndarray, source: str, sample_shape: tuple[int, int] | None
) -> tuple[np.ndarray, bool]:
    """Return the array as (n, rows, columns) and whether the input was a stack."""
    if array.dtype.kind not in "biuf":
        raise InputError(
            f"{source}: array dtype {array.dtype} is not supported; "
            "store samples as bool, integer or float"
        )
    if sample_shape is not None:
        rows, columns = sample_shape
        per_sample = rows * columns
        if array.size % per_sample != 0 or array.size == 0:
            raise InputError(
                f"{source}: an array of shape {array.shape} cannot be split "
                f"into samples of {rows}x{columns}"
            )
        return array.reshape(-1, rows, columns), True

    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    is_stack = array.ndim != 2
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3:
        raise InputError(
            f"{source}: array of shape {array.shape} is neither one sample (rows, columns) "
            "nor a stack (n, rows, columns); pass --sample-shape for flattened samples"
        )
    if 0 in array.shape:
        raise InputError(f"{source}: array of shape {array.shape} contains no values")
    return array, is_stack


def _scale_to_unit(array: np.ndarray, value_range: str, source: str) -> np.ndarray:
    if value_range == "0-65535":
        low, high = 0.0, 65535.0
    elif value_range == "0-255":
        low, high = 0.0, 255.0
    elif value_range == "-1-1":
        low, high = -1.0, 1.0
    else:
        low, high = 0.0, 1.0

    values = array.astype(np.float64)
    found_low = float(values.min())
    found_high = float(values.max())
    if found_low < low or found_high > high:
        raise InputError(
            f"{source}: values span [{found_low:g}, {found_high:g}], outside the value "
            f"range [{low:g}, {high:g}]; pass the matching --value-range"
        )
    if low == 0.0 and high == 1.0:
        return values
    return (values - low) / (high - low)


def _read_array_file(
    path: str | os.PathLike, source: str, suffix: str, npz_key: str | None, max_elements: int
) -> tuple[np.ndarray, list[str]]:
    if suffix == ".npy":
        try:
            with open(path, "rb") as handle:
                _check_npy_header(handle, source, max_elements)
                handle.seek(0)
                return _load_npy(handle, source), []
        except OSError as error:
            raise InputError(f"{source}: cannot read file ({error.strerror or error})") from None

    try:
        with zipfile.ZipFile(path) as archive:
            names = [name[:-4] for name in archive.namelist() if name.endswith(".npy")]
            key = _choose_npz_key(names, npz_key, source)
            with archive.open(key + ".npy") as member:
                _check_npy_header(member, f"{source}[{key}]", max_elements)
            with archive.open(key + ".npy") as member:
                array = _load_npy(member, f"{source}[{key}]")
    except zipfile.BadZipFile:
        raise InputError(f"{source}: not a valid .npz file (damaged zip archive)") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as error:
        raise InputError(f"{source}: cannot read .npz file ({error})") from None
    return array, [f"array {key!r} read from .npz"]


def _choose_npz_key(names: list[str], npz_key: str | None, source: str) -> str:
    if not names:
        raise InputError(f"{source}: .npz file contains no arrays")
    if npz_key is not None:
        if npz_key not in names:
            listed = ", ".join(sorted(names)[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            raise InputError(f"{source}: .npz file has no array {npz_key!r}; it contains {listed}")
        return npz_key
    if len(names) == 1:
        return names[0]
    for key in NPZ_DEFAULT_KEYS:
        if key in names:
            return key
    listed = ", ".join(sorted(names)[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise InputError(f"{source}: .npz file contains several arrays ({listed}); choose one with --npz-key")


def _check_npy_header(handle, source: str, max_elements: int) -> None:
    """Reject an .npy stream whose header is damaged, pickled or too large, before reading data."""
    from numpy.lib import format as npy_format

    try:
        version = npy_format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(handle)
        else:
            shape, _, dtype = npy_format.read_array_header_2_0(handle)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as error:
        raise InputError(f"{source}: not a valid .npy file ({_first_line(error)})") from None

    if dtype.hasobject:
        raise InputError(
            f"{source}: array contains Python objects (a pickle); gandetect never unpickles, "
            "save a numeric array instead"
        )
    n_elements = int(np.prod(shape, dtype=object)) if shape else 1
    if n_elements > max_elements:
        raise InputError(
            f"{source}: array declares shape {shape} ({n_elements} values), above the cap of "
            f"{max_elements}; split it or raise --max-array-elements"
        )


def _load_npy(handle, source: str) -> np.ndarray:
    from numpy.lib import format as npy_format

    try:
        return npy_format.read_array(handle, allow_pickle=False)
    except ValueError as error:
        message = _first_line(error)
        if "pickle" in message.lower():
            raise InputError(
                f"{source}: array contains Python objects (a pickle); gandetect never unpickles, "
                "save a numeric array instead"
            ) from None
        raise InputError(f"{source}: damaged or truncated .npy data ({message})") from None
    except (OSError, EOFError) as error:
        raise InputError(f"{source}: damaged or truncated .npy data ({_first_line(error)})") from None


def _read_image(path: str | os.PathLike, source: str, max_pixels: int) -> Batch:
    from PIL import Image, UnidentifiedImageError

    notes: list[str] = []
    # Pillow's own bomb check warns above 89M pixels and fails above 179M;
    # the caller's cap replaces it, so that --max-pixels can raise the limit.
    pillow_cap = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise InputError(
                    f"{source}: image declares {width}x{height} pixels, above the cap of "
                    f"{max_pixels}; raise --max-pixels if the file is trusted"
                )
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"first of {image.n_frames} frames read")
            image.load()
            values = _image_values(image, source, notes)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{source}: not a readable image (unknown or damaged format)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise InputError(f"{source}: damaged or truncated image ({_first_line(error)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_cap

    for note in notes:
        if note.startswith(("colour", "transparency")):
            warnings.warn(f"{source}: {note}", stacklevel=3)
    return Batch(values=values[np.newaxis], sources=[source], path=source, notes=notes)


def _image_values(image, source: str, notes: list[str]) -> np.ndarray:
    """Convert a loaded Pillow image to float64 values in [0, 1] by the module's rules."""
    mode = image.mode
    if mode == "1":
        return np.asarray(image, dtype=np.float64)
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        raw = np.asarray(image).astype(np.float64)
        if raw.min() < 0 or raw.max() > 65535:
            raise InputError(f"{source}: 32-bit integer image with values outside 0..65535 is not supported")
        return raw / 65535.0
    if mode == "F":
        raw = np.asarray(image, dtype=np.float64)
        if not np.isfinite(raw).all():
            raise InputError(f"{source}: floating-point image contains NaN or infinite values")
        return _scale_to_unit(raw, infer_value_range(raw, source), source)
    if mode == "L":
        return np.asarray(image, dtype=np.float64) / 255.0

    if mode == "P":
        image = image.convert("RGBA")
    elif mode not in ("RGB", "RGBA", "LA", "La", "RGBa"):
        image = image.convert("RGBA" if "A" in mode else "RGB")
    bands = image.getbands()

    alpha = None
    if "A" in bands or "a" in bands:
        alpha = np.asarray(image.getchannel(bands[-1]), dtype=np.float64) / 255.0
        image = image.convert("RGB") if image.mode != "LA" else image.getchannel("L")
        if (alpha < 1.0).any():
            notes.append("transparency composited onto black")
        else:
            alpha = None

    channels = np.asarray(image, dtype=np.float64)
    if channels.ndim == 3:
        if (channels == channels[..., :1]).all():
            gray = channels[..., 0]
        else:
            notes.append("colour converted to gray with ITU-R 601-2 luma")
            gray = np.asarray(image.convert("L"), dtype=np.float64)
    else:
        gray = channels
    gray = gray / 255.0
    if alpha is not None:
        gray = gray * alpha
    return gray


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
