"""Speech audio: mel-spectrogram patches, hostile recordings, and the fixtures."""

import json
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from gandetect.audio import MelSettings, compressed_mel, read_audio, scale_compressed
from gandetect.cli import app
from gandetect.errors import InputError
from gandetect.kinds import KINDS, ReadOptions
from gandetect.profile import load_bundled_profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "speech"
runner = CliRunner()
RATE = 8000


def _tone(seconds, rate=RATE, amplitude=0.3, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


def test_mel_matches_librosa():
    samples = np.random.default_rng(0).normal(0, 0.1, RATE * 2)
    settings = MelSettings()

    ours = compressed_mel(samples, settings)
    theirs = np.log1p(
        1000.0 * librosa.feature.melspectrogram(y=samples, sr=RATE, n_fft=1024, hop_length=160, n_mels=64, power=2.0)
    )

    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_scaling_clips_to_bounds():
    settings = MelSettings(scale_low=0.0, scale_high=10.0)

    scaled = scale_compressed(np.array([[-1.0, 0.0, 5.0, 10.0, 12.0]]), settings)

    np.testing.assert_array_equal(scaled, [[0.0, 0.0, 0.5, 1.0, 1.0]])


def _read(path):
    profile = load_bundled_profile("melspec")
    return KINDS["melspec"].read(path, ReadOptions(), profile.document["representation"])


def test_wav_becomes_grouped_patches(tmp_path):
    path = tmp_path / "tone.wav"
    soundfile.write(path, _tone(3.0), RATE)

    batch = _read(path)

    # 3 s at hop 160 and 8 kHz, centred frames: 151 frames, 2 whole patches of 64.
    assert batch.values.shape == (2, 64, 64)
    assert batch.grouped
    assert batch.sources == [f"{path}[0]", f"{path}[1]"]
    assert "151 frames cut into patches of 64" in batch.notes[0]


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
def test_other_formats_read(tmp_path, suffix):
    path = tmp_path / f"tone{suffix}"
    soundfile.write(path, _tone(2.0), RATE)

    assert _read(path).values.shape[1:] == (64, 64)


def test_stereo_and_rate_are_noted(tmp_path):
    path = tmp_path / "stereo.wav"
    soundfile.write(path, _tone(2.0, rate=44100, channels=2), 44100)

    samples, notes = read_audio(path, RATE)

    assert samples.ndim == 1
    assert samples.size == pytest.approx(2.0 * RATE, abs=2)
    assert "2 channels mixed down to mono" in notes
    assert "resampled from 44100 Hz to 8000 Hz" in notes


def test_clipping_is_noted(tmp_path):
    path = tmp_path / "clipped.wav"
    soundfile.write(path, np.clip(_tone(2.0, amplitude=3.0), -1, 1), RATE, subtype="FLOAT")

    _, notes = read_audio(path, RATE)

    assert any(note.startswith("clipped:") for note in notes)


def test_silence_has_defined_result(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(RATE * 2), RATE)

    result = runner.invoke(app, ["score", str(path), "--json", "--evidence", "all"])

    file_record = json.loads(result.stdout)["results"][-1]
    assert file_record["unit"] == "file"
    assert file_record["error"] is None
    assert "silent: every sample is 0" in file_record["notes"]
    centroid = next(item for item in file_record["evidence"] if item["statistic"] == "centroid_mean")
    # Silent frames have no centroid: the statistic is undefined, not a division by zero.
    assert centroid["value"] is None
    assert centroid["z"] == 0


def test_bad_audio_raises_one_line_errors(tmp_path):
    short = tmp_path / "short.wav"
    soundfile.write(short, _tone(0.05), RATE)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage-garbage")
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.full(RATE, np.nan), RATE, subtype="FLOAT")

    cases = [
        (short, "0.050 s of audio is shorter than one analysis window"),
        (empty, "file is empty"),
        (corrupt, "not a readable audio file"),
        (nan, "NaN or infinite samples"),
    ]
    for path, message in cases:
        with pytest.raises(InputError, match=message) as caught:
            _read(path)
        assert "\n" not in str(caught.value)
        assert str(caught.value).startswith(str(path))


def test_compare_orders_fixture_sets():
    sets = [FIXTURES / "real-heldout", FIXTURES / "wgan-gp.npz", FIXTURES / "exponential.npz"]

    result = runner.invoke(app, ["compare", *map(str, sets), "--kind", "melspec", "--json"])

    assert result.exit_code == 0, result.output
    real, gan, exponential = json.loads(result.stdout)["sets"]
    assert real["ks_statistic"] < gan["ks_statistic"]
    assert real["ks_statistic"] < exponential["ks_statistic"]
    assert set(real["moments"]) >= {"centroid_mean", "slope_kurtosis"}
