"""Profiles: atomic writes, checksums, and clear errors for damaged or foreign files."""

import json

import numpy as np
import pytest

from gandetect.engine import Model, fit_profile
from gandetect.errors import ProfileError, UsageError
from gandetect.loading import batch_from_array
from gandetect.profile import SCHEMA_VERSION, content_checksum, load_bundled_profile, load_profile, save_profile


def _stroke_samples():
    """160 seeded 12x12 images, each with one horizontal stroke: the same list on every call."""
    rng = np.random.default_rng(0)
    samples = []
    for i in range(160):
        image = np.zeros((12, 12), dtype=np.uint8)
        row = rng.integers(2, 10)
        image[row : row + 3, 2:10] = rng.integers(100, 256, (3, 8))
        samples.append((f"s{i}", batch_from_array(image, source=f"s{i}")))
    return samples


@pytest.fixture(scope="module")
def small_document():
    return fit_profile(_stroke_samples(), description="synthetic strokes")


def test_roundtrip_keeps_content(tmp_path, small_document):
    path = tmp_path / "profile.json"

    save_profile(small_document, path)
    loaded = load_profile(path)

    assert loaded.kind == "image"
    assert loaded.document["training"]["description"] == "synthetic strokes"
    assert loaded.document["checksum"] == content_checksum(loaded.document)
    Model.from_profile(loaded)


def test_split_is_reproducible(small_document):
    again = fit_profile(_stroke_samples(), description="synthetic strokes")

    assert again["training"] == small_document["training"]
    assert again["reference"] == small_document["reference"]
    assert again["calibration"] == small_document["calibration"]


def test_failed_write_keeps_old_profile(tmp_path, small_document):
    path = tmp_path / "profile.json"
    save_profile(small_document, path)
    before = path.read_bytes()
    broken = dict(small_document, training={**small_document["training"], "bad": float("nan")})

    with pytest.raises(ValueError):
        save_profile(broken, path)

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["profile.json"]


def _edited(tmp_path, small_document, edit, *, fix_checksum=True):
    document = json.loads(json.dumps(small_document))
    document["checksum"] = ""
    edit(document)
    if fix_checksum:
        document["checksum"] = content_checksum(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    return path


def test_damaged_profiles_are_rejected(tmp_path, small_document):
    def set_field(name, value):
        return lambda document: document.__setitem__(name, value)

    cases = [
        (set_field("schema_version", SCHEMA_VERSION + 1), True, "schema version 2 is newer"),
        (set_field("schema_version", "1"), True, "schema_version must be an integer"),
        (set_field("kind", "video"), True, "unknown profile kind 'video'"),
        (set_field("format", "something-else"), True, "not a gandetect profile"),
        (lambda document: document.pop("detector"), True, r"lacks field\(s\) detector"),
        (set_field("extra", 1), True, r"unknown field\(s\) extra"),
        (lambda document: document["training"].__setitem__("n_files", 7), False, "checksum mismatch"),
    ]
    for edit, fix_checksum, message in cases:
        path = _edited(tmp_path, small_document, edit, fix_checksum=fix_checksum)
        with pytest.raises(ProfileError, match=message):
            load_profile(path)


def test_bad_content_with_valid_checksum_is_rejected(tmp_path, small_document):
    def shrink(document):
        document["detector"]["standardiser"]["quantiles"] = [[0.0]]

    path = _edited(tmp_path, small_document, shrink)

    with pytest.raises(ProfileError, match="invalid profile content"):
        Model.from_profile(load_profile(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON"),
        (b"{\"format\": ", "not valid JSON"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"[1, 2, 3]", "not a gandetect profile"),
        (b"{\"format\": \"gandetect-profile\", \"schema_version\": NaN}", "not valid JSON"),
    ],
)
def test_unreadable_profiles_are_rejected(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_bytes(content)

    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_missing_profile(tmp_path):
    with pytest.raises(ProfileError, match="profile not found"):
        load_profile(tmp_path / "nope.json")


def test_bundled_profile_loads():
    model = Model.from_profile(load_bundled_profile("image"))

    assert model.sample_shape == (28, 28)
    assert model.profile.source == "bundled:mnist.json"


def test_fit_needs_enough_samples():
    samples = [(f"s{i}", batch_from_array(np.zeros((4, 4)), source=f"s{i}")) for i in range(10)]

    with pytest.raises(UsageError, match="at least 20 reference and 20 calibration"):
        fit_profile(samples)


def test_missing_reference_field_is_named(tmp_path, small_document):
    def drop(document):
        del document["reference"]["value_counts"]

    path = _edited(tmp_path, small_document, drop)

    with pytest.raises(ProfileError, match="profile lacks field value_counts; refit it"):
        Model.from_profile(load_profile(path))
