"""Reading images and arrays: exact values, documented conversions, one-line errors."""

import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image

from gandetect.errors import InputError
from gandetect.loading import batch_from_array, infer_value_range, read_samples


@pytest.fixture()
def digit():
    rng = np.random.default_rng(0)
    image = np.zeros((28, 28), dtype=np.uint8)
    image[5:20, 10:15] = rng.integers(1, 256, (15, 5))
    return image


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
def test_lossless_grayscale_keeps_levels(tmp_path, digit, suffix):
    path = tmp_path / f"digit{suffix}"
    options = {"lossless": True} if suffix == ".webp" else {}
    Image.fromarray(digit, mode="L").save(path, **options)

    batch = read_samples(path)

    assert batch.values.shape == (1, 28, 28)
    np.testing.assert_array_equal(batch.values[0], digit / 255.0)
    assert batch.sources == [str(path)]


def test_jpeg_is_read(tmp_path, digit):
    path = tmp_path / "digit.jpg"
    Image.fromarray(digit, mode="L").save(path, quality=95)

    batch = read_samples(path)

    assert batch.values.shape == (1, 28, 28)
    assert batch.values.min() >= 0.0
    assert batch.values.max() <= 1.0


def test_sixteen_bit_png_uses_65535(tmp_path):
    levels = np.array([[0, 257, 65535], [1000, 30000, 65534]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(levels).save(path)

    batch = read_samples(path)

    np.testing.assert_array_equal(batch.values[0], levels / 65535.0)


def test_gray_saved_as_rgb_is_exact(tmp_path, digit):
    path = tmp_path / "rgb.png"
    Image.fromarray(np.stack([digit] * 3, axis=-1), mode="RGB").save(path)

    batch = read_samples(path)

    np.testing.assert_array_equal(batch.values[0], digit / 255.0)
    assert batch.notes == []


def test_colour_is_converted_with_warning(tmp_path):
    colour = np.zeros((4, 4, 3), dtype=np.uint8)
    colour[..., 0] = 255
    path = tmp_path / "red.png"
    Image.fromarray(colour, mode="RGB").save(path)

    with pytest.warns(UserWarning, match="colour converted to gray"):
        batch = read_samples(path)

    # ITU-R 601-2 luma of pure red: 299/1000 * 255, rounded by Pillow to 76.
    np.testing.assert_array_equal(batch.values[0], np.full((4, 4), 76 / 255.0))


def test_alpha_is_composited_onto_black(tmp_path):
    pixels = np.zeros((2, 2, 2), dtype=np.uint8)
    pixels[..., 0] = 200
    pixels[..., 1] = [[255, 0], [51, 255]]
    path = tmp_path / "alpha.png"
    Image.fromarray(pixels, mode="LA").save(path)

    with pytest.warns(UserWarning, match="transparency"):
        batch = read_samples(path)

    expected = (200 / 255.0) * (pixels[..., 1] / 255.0)
    np.testing.assert_allclose(batch.values[0], expected, rtol=1e-12)


def test_npy_single_sample(tmp_path, digit):
    path = tmp_path / "one.npy"
    np.save(path, digit)

    batch = read_samples(path)

    assert batch.sources == [str(path)]
    np.testing.assert_array_equal(batch.values[0], digit / 255.0)


def test_npy_stack_reports_each_sample(tmp_path):
    stack = np.random.default_rng(1).uniform(-1, 1, (3, 28, 28)).astype(np.float32)
    path = tmp_path / "stack.npy"
    np.save(path, stack)

    batch = read_samples(path)

    assert batch.sources == [f"{path}[0]", f"{path}[1]", f"{path}[2]"]
    np.testing.assert_allclose(batch.values, (stack.astype(np.float64) + 1.0) / 2.0)
    assert "value range -1-1" in batch.notes[0]


def test_channel_axis_of_one_is_dropped():
    nchw = np.zeros((2, 1, 5, 6))
    nhwc = np.zeros((2, 5, 6, 1))

    assert batch_from_array(nchw).values.shape == (2, 5, 6)
    assert batch_from_array(nhwc).values.shape == (2, 5, 6)


def test_sample_shape_reshapes_flat_rows():
    flat = np.zeros((3, 784), dtype=np.uint8)

    batch = batch_from_array(flat, sample_shape=(28, 28))

    assert batch.values.shape == (3, 28, 28)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([0.0, 0.5, 1.0]), "0-1"),
        (np.array([-1.0, 0.0, 1.0]), "-1-1"),
        (np.array([0.0, 17.0, 255.0]), "0-255"),
        (np.array([0, 255], dtype=np.uint8), "0-255"),
        (np.array([0, 1], dtype=np.uint8), "0-255"),
        (np.array([True, False]), "0-1"),
        (np.array([0, 65535], dtype=np.uint16), "0-65535"),
    ],
)
def test_value_range_recognition(array, expected):
    assert infer_value_range(array) == expected


def test_value_range_override():
    array = np.array([[0.0, 0.5, 1.0]])

    batch = batch_from_array(array, value_range="-1-1")

    np.testing.assert_array_equal(batch.values[0], [[0.5, 0.75, 1.0]])


def test_float_values_are_kept_exactly():
    array = np.array([[1e-9, 0.123456789, 1.0 - 1e-12]])

    batch = batch_from_array(array)

    np.testing.assert_array_equal(batch.values[0], array)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _bad_inputs(tmp_path, digit):
    png = tmp_path / "good.png"
    Image.fromarray(digit, mode="L").save(png)
    png_bytes = png.read_bytes()

    nan_path = tmp_path / "nan.npy"
    np.save(nan_path, np.full((28, 28), np.nan))
    object_path = tmp_path / "object.npy"
    np.save(object_path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    pickle_path = _write(tmp_path / "pickled.npy", pickle.dumps(np.zeros((2, 2))))
    huge_path = tmp_path / "huge.npy"
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100), }"
    header += " " * (118 - len(header)) + "\n"
    _write(huge_path, b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    truncated_npy = tmp_path / "truncated.npy"
    np.save(truncated_npy, np.zeros((28, 28)))
    truncated_npy.write_bytes(truncated_npy.read_bytes()[:200])
    range_path = tmp_path / "range.npy"
    np.save(range_path, np.array([[-5.0, 300.0]]))
    text_path = tmp_path / "string.npy"
    np.save(text_path, np.array([["a", "b"]]))
    several = tmp_path / "several.npz"
    np.savez(several, first=np.zeros((2, 2)), second=np.ones((2, 2)))
    bad_zip = _write(tmp_path / "bad.npz", b"PK\x03\x04 not really a zip")
    empty_zip = tmp_path / "empty.npz"
    with zipfile.ZipFile(empty_zip, "w"):
        pass

    return [
        (tmp_path / "missing.png", "file not found"),
        (_write(tmp_path / "empty.png", b""), "file is empty"),
        (_write(tmp_path / "text.png", b"hello, not a png"), "not a readable image"),
        (_write(tmp_path / "cut.png", png_bytes[: len(png_bytes) // 2]), "damaged or truncated image"),
        (_write(tmp_path / "notes.txt", b"text"), "unsupported file type '.txt'"),
        (nan_path, "contains 784 NaN and 0 infinite values"),
        (object_path, "Python objects"),
        (pickle_path, "not a valid .npy file"),
        (huge_path, "above the cap"),
        (truncated_npy, "damaged or truncated .npy data"),
        (range_path, r"values span \[-5, 300\]"),
        (text_path, "is not supported"),
        (several, "several arrays"),
        (bad_zip, "not a valid .npz file"),
        (empty_zip, "contains no arrays"),
        (tmp_path, "is a directory"),
    ]


def test_bad_inputs_raise_one_line_errors(tmp_path, digit):
    for path, message in _bad_inputs(tmp_path, digit):
        with pytest.raises(InputError, match=message) as caught:
            read_samples(path)
        text = str(caught.value)
        assert "\n" not in text, text
        assert text.startswith(str(path)), text


def test_decompression_bomb_is_rejected(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (10_000, 10_000)).save(path)

    with pytest.raises(InputError, match="declares 10000x10000 pixels, above the cap"):
        read_samples(path)


def test_npz_key_selects_array(tmp_path):
    path = tmp_path / "several.npz"
    np.savez(path, first=np.zeros((2, 2)), second=np.ones((2, 2)))

    batch = read_samples(path, npz_key="second")

    np.testing.assert_array_equal(batch.values[0], np.ones((2, 2)))
    with pytest.raises(InputError, match="no array 'third'"):
        read_samples(path, npz_key="third")
