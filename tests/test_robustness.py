"""Hostile input: random bytes, interrupted runs, odd file names, killed writers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gandetect.engine import Model, score_batch
from gandetect.errors import GandetectError
from gandetect.kinds import KINDS, ReadOptions
from gandetect.loading import batch_from_array
from gandetect.profile import load_bundled_profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
IMAGE_MODEL = Model.from_profile(load_bundled_profile("image"))
REPRESENTATIONS = {name: load_bundled_profile(name).document["representation"] for name in KINDS}

# (kind, suffix, leading bytes that make the reader go past its first check)
READERS = [
    ("image", ".png", b"\x89PNG\r\n\x1a\n"),
    ("image", ".bmp", b"BM"),
    ("image", ".npy", b"\x93NUMPY\x01\x00"),
    ("image", ".npz", b"PK\x03\x04"),
    ("pianoroll", ".mid", b"MThd\x00\x00\x00\x06"),
    ("melspec", ".wav", b"RIFF\x00\x00\x00\x00WAVEfmt "),
]


@pytest.mark.parametrize(("kind", "suffix", "prefix"), READERS)
def test_random_bytes_raise_only_gandetect_errors(tmp_path_factory, kind, suffix, prefix):
    folder = tmp_path_factory.mktemp("random")
    path = folder / f"input{suffix}"

    @settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(tail=st.binary(max_size=256), keep_prefix=st.booleans())
    def check(tail, keep_prefix):
        path.write_bytes((prefix if keep_prefix else b"") + tail)
        try:
            KINDS[kind].read(path, ReadOptions(), REPRESENTATIONS[kind])
        except GandetectError as error:
            assert "\n" not in str(error)

    check()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(["uniform", "binary", "sparse", "constant"]),
)
def test_valid_arrays_give_finite_deterministic_scores(seed, shape):
    rng = np.random.default_rng(seed)
    if shape == "uniform":
        values = rng.random((2, 28, 28))
    elif shape == "binary":
        values = (rng.random((2, 28, 28)) < 0.2).astype(np.float64)
    elif shape == "sparse":
        values = np.where(rng.random((2, 28, 28)) < 0.1, rng.random((2, 28, 28)), 0.0)
    else:
        values = np.full((2, 28, 28), rng.random())

    first = score_batch(batch_from_array(values), IMAGE_MODEL)
    second = score_batch(batch_from_array(values), IMAGE_MODEL)

    for one, two in zip(first, second):
        assert one.to_json() == two.to_json()
        assert 0.0 < one.p_value <= 1.0
        assert np.isfinite(one.statistic)
        for item in one.evidence:
            assert item.value is None or np.isfinite(item.value)
            assert np.isfinite(item.z)


def _gandetect(*arguments, **options):
    return subprocess.Popen(
        [sys.executable, "-m", "gandetect", *(os.fsdecode(argument) for argument in arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **options,
    )


def test_ctrl_c_writes_summary_and_exits_130(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    digits = np.load(FIXTURES / "mnist" / "real-heldout.npz")["images"]
    # Enough files that the batch is still running when the signal arrives,
    # with two worker processes scoring groups of 128 files.
    for i in range(4000):
        np.save(folder / f"{i:04d}.npy", digits[i % len(digits)])

    process = _gandetect("batch", folder, "--json")
    first_line = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    # Read on through the same buffered reader: communicate() would read the
    # raw pipe and skip what readline() has already buffered.
    rest = process.stdout.read()
    errors = process.stderr.read()
    process.wait(timeout=60)

    lines = [json.loads(first_line)] + [json.loads(line) for line in rest.decode().splitlines()]
    assert process.returncode == 130, errors
    assert lines[-1]["type"] == "summary"
    assert lines[-1]["interrupted"] is True
    assert lines[-1]["n_results"] == len(lines) - 1
    assert all(line["type"] == "result" for line in lines[:-1])


def test_non_utf8_name_is_kept_exactly(tmp_path):
    name = b"digit-\xff\xfe.png"
    source = (FIXTURES / "mnist" / "real" / "0000.png").read_bytes()
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
        handle.write(source)

    process = _gandetect("batch", tmp_path, "--json")
    output, errors = process.communicate(timeout=60)

    record = json.loads(output.decode().splitlines()[0])
    assert process.returncode == 0, errors
    assert os.fsencode(record["path"]) == os.path.join(os.fsencode(tmp_path), name)

    table = _gandetect("score", os.path.join(os.fsencode(tmp_path), name))
    text, errors = table.communicate(timeout=60)
    assert table.returncode == 0, errors
    assert b"\\udcff" in text


def test_killed_fit_leaves_old_profile_intact(tmp_path):
    profile = tmp_path / "profile.json"
    fitted = subprocess.run(
        [sys.executable, "-m", "gandetect", "fit", str(FIXTURES / "mnist" / "real"), "-o", str(profile)],
        capture_output=True,
        timeout=300,
    )
    assert fitted.returncode == 0, fitted.stderr
    before = profile.read_bytes()

    for delay in (0.5, 1.5, 3.0):
        process = _gandetect("fit", FIXTURES / "mnist" / "real", "--seed", "7", "-o", profile)
        time.sleep(delay)
        process.kill()
        process.communicate(timeout=60)
        after = profile.read_bytes()
        # Either the old profile or a complete new one, never a partial file.
        if after != before:
            json.loads(after)
            before = after
    assert json.loads(profile.read_bytes())["format"] == "gandetect-profile"


def test_batch_survives_bad_symlinks(tmp_path):
    source = (FIXTURES / "mnist" / "real" / "0000.png").read_bytes()
    (tmp_path / "digit.png").write_bytes(source)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "gone.png").symlink_to(tmp_path / "deleted-before-reading.png")

    process = _gandetect("batch", tmp_path, "--json")
    output, errors = process.communicate(timeout=60)

    records = [json.loads(line) for line in output.decode().splitlines()]
    assert process.returncode == 2, errors
    by_name = {Path(record["path"]).name: record for record in records if record["type"] == "result"}
    assert set(by_name) == {"digit.png", "gone.png"}
    assert by_name["digit.png"]["verdict"] == "real"
    assert by_name["gone.png"]["error"].endswith("gone.png: file not found")
    assert records[-1]["errors"] == 1
