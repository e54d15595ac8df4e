"""Build a small corpus of bad and odd inputs, one file per kind, with the expected outcome.

Run as a script to write the corpus to a folder for manual use:

    python tests/hostile_corpus.py /tmp/corpus

``CASES`` maps a name to (file name, builder, expected). The builder
writes the file at the given path. ``expected`` is ``"ok"`` for a defined
result (exit code 0 or 1), or a regular expression that the one-line error
must match (exit code 2). A pattern with an ``ok`` alternative accepts both.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

import mido
import numpy as np
import soundfile
from PIL import Image

RATE = 8000
ROOT = Path(__file__).resolve().parent.parent


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` 1-bit pixels, with a tiny image stream."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    stream = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", stream) + _png_chunk(b"IEND", b"")


def _digit_png() -> bytes:
    return (ROOT / "fixtures" / "mnist" / "real" / "0000.png").read_bytes()


def _save_array(array):
    return lambda path: np.save(path, array)


def _npy_header(shape: str) -> bytes:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape
    header += " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def _midi(path, messages, *, ticks_per_beat=480):
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    track.extend(messages)
    midi.tracks.append(track)
    midi.save(path)


def _notes(count, length=120, channel=0):
    messages = []
    for i in range(count):
        pitch = 48 + i % 24
        messages.append(mido.Message("note_on", note=pitch, velocity=100, time=0, channel=channel))
        messages.append(mido.Message("note_off", note=pitch, velocity=0, time=length, channel=channel))
    return messages


def _wav(samples, *, rate=RATE, subtype=None):
    return lambda path: soundfile.write(path, samples, rate, subtype=subtype, format="WAV")


def _tone(seconds, amplitude=0.3, offset=0.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return offset + amplitude * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))


def _wav_claiming_hours(path):
    data = (np.zeros(4000, dtype=np.int16)).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    header = b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    Path(path).write_bytes(header + b"data" + struct.pack("<I", 0xFFFFFFF0) + data)


def _profile(edit):
    def build(path):
        from gandetect.profile import content_checksum, load_bundled_profile

        document = json.loads(json.dumps(load_bundled_profile("image").document))
        edit(document)
        document["checksum"] = content_checksum(document)
        Path(path).write_text(json.dumps(document))

    return build


def _set(key, value):
    return lambda document: document.__setitem__(key, value)


def _write(data: bytes):
    return lambda path: Path(path).write_bytes(data)


CASES = {
    # images
    "png-empty": ("empty.png", _write(b""), "file is empty"),
    "png-truncated": ("truncated.png", lambda p: Path(p).write_bytes(_digit_png()[:60]), "damaged or truncated image"),
    "png-random-bytes": ("random.png", _write(bytes(range(256)) * 4), "not a readable image"),
    "png-is-wav": ("sound.png", _wav(_tone(1.0)), "not a readable image"),
    "png-bomb-50000": ("bomb.png", _write(png_declaring(50_000, 50_000)), "declares 50000x50000 pixels, above the cap"),
    "jpeg-truncated": ("cut.jpg", lambda p: Path(p).write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20), "not a readable image"),
    "bmp-garbage": ("garbage.bmp", _write(b"BM" + b"\x00" * 40), "image"),
    "unknown-extension": ("notes.txt", _write(b"text"), "unsupported file type '.txt'"),
    # arrays
    "npy-empty": ("empty.npy", _write(b""), "file is empty"),
    "npy-truncated": ("truncated.npy", lambda p: Path(p).write_bytes(_npy_header("(28, 28)") + b"\x00" * 10), "damaged or truncated .npy data"),
    "npy-huge-shape": ("huge.npy", _write(_npy_header("(100000, 100000, 100)")), "above the cap"),
    "npy-object": ("object.npy", lambda p: np.save(p, np.array([None, {"a": 1}], dtype=object), allow_pickle=True), "Python objects"),
    "npy-raw-pickle": ("pickle.npy", _write(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."), "not a valid .npy file"),
    "npy-nan": ("nan.npy", _save_array(np.full((28, 28), np.nan)), "contains 784 NaN"),
    "npy-inf": ("inf.npy", _save_array(np.full((28, 28), np.inf)), "784 infinite values"),
    "npy-out-of-range": ("range.npy", _save_array(np.full((28, 28), 1000.0)), "values span"),
    "npy-int64-large": ("large.npy", _save_array(np.full((28, 28), 2**40, dtype=np.int64)), "values span"),
    "npy-strings": ("strings.npy", _save_array(np.array([["a", "b"]])), "is not supported"),
    "npy-complex": ("complex.npy", _save_array(np.zeros((28, 28), dtype=complex)), "is not supported"),
    "npy-1d": ("flat.npy", _save_array(np.zeros(784)), "neither one sample"),
    "npy-5d": ("five.npy", _save_array(np.zeros((1, 1, 1, 28, 28))), "neither one sample"),
    "npy-zero-size": ("zero.npy", _save_array(np.zeros((0, 28, 28))), "contains no values"),
    "npy-wrong-shape": ("wide.npy", _save_array(np.zeros((28, 30))), "samples are 28x30"),
    "npz-bad-zip": ("bad.npz", _write(b"PK\x03\x04 not a zip"), "not a valid .npz file"),
    "npz-several-arrays": ("several.npz", lambda p: np.savez(p, first=np.zeros((2, 2)), second=np.zeros((2, 2))), "several arrays"),
    "npy-valid-uint8": ("digit.npy", _save_array(np.zeros((28, 28), dtype=np.uint8)), "ok"),
    # MIDI
    "midi-empty": ("empty.mid", _write(b""), "file is empty"),
    "midi-garbage": ("garbage.mid", _write(b"this is not midi"), "not a readable MIDI file"),
    "midi-corrupt-header": ("corrupt.mid", _write(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01"), "not a readable MIDI file"),
    "midi-no-notes": ("silent.mid", lambda p: _midi(p, []), "no pitched notes found"),
    "midi-drums-only": ("drums.mid", lambda p: _midi(p, _notes(4, channel=9)), "drum tracks are left out"),
    "midi-zero-tempo": ("zero-tempo.mid", lambda p: _midi(p, [mido.MetaMessage("set_tempo", tempo=0)] + _notes(2)), "tempo of 0 microseconds"),
    "midi-absurd-tempo": ("fast.mid", lambda p: _midi(p, [mido.MetaMessage("set_tempo", tempo=1)] + _notes(2)), "BPM is outside"),
    "midi-note-ending-1e7-s": ("long.mid", lambda p: _midi(p, [mido.MetaMessage("set_tempo", tempo=1_000_000)] + _notes(1, length=10_000_000), ticks_per_beat=1), "not a readable MIDI file|above the cap"),
    "midi-many-notes": ("many.mid", lambda p: _midi(p, _notes(3000, length=1)), "notes, above the cap of 2000"),
    "midi-ticks-per-beat-1": ("coarse.mid", lambda p: _midi(p, _notes(8, length=1), ticks_per_beat=1), "ok"),
    "midi-ticks-per-beat-32767": ("fine.mid", lambda p: _midi(p, _notes(8, length=8192), ticks_per_beat=32767), "ok"),
    "midi-no-tempo": ("no-tempo.mid", lambda p: _midi(p, _notes(8)), "ok"),
    "midi-out-of-range-pitch": ("high.mid", lambda p: _midi(p, [mido.Message("note_on", note=120, velocity=90), mido.Message("note_off", note=120, velocity=0, time=240)]), "outside the profile's range"),
    # audio
    "wav-empty": ("empty.wav", _write(b""), "file is empty"),
    "wav-corrupt-header": ("corrupt.wav", _write(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage"), "not a readable audio file"),
    "wav-header-claims-hours": ("hours.wav", _wav_claiming_hours, "ok|header declares|damaged audio data"),
    "wav-too-short": ("short.wav", _wav(_tone(0.05)), "shorter than one analysis window"),
    "wav-nan": ("nan.wav", _wav(np.full(RATE, np.nan), subtype="FLOAT"), "NaN or infinite samples"),
    "wav-silence": ("silence.wav", _wav(np.zeros(2 * RATE)), "ok"),
    "wav-dc-offset": ("dc.wav", _wav(_tone(2.0, amplitude=0.1, offset=0.5)), "ok"),
    "wav-stereo-44k": ("stereo.wav", _wav(np.stack([_tone(1.0)] * 2, axis=1), rate=44100), "ok"),
    "wav-clipped": ("clipped.wav", _wav(np.clip(_tone(2.0, amplitude=3.0), -1, 1)), "ok"),
}

# Profiles, scored with `--profile FILE` against a valid digit.
PROFILE_CASES = {
    "profile-empty": ("empty.json", _write(b""), "not valid JSON"),
    "profile-not-json": ("text.json", _write(b"hello"), "not valid JSON"),
    "profile-binary": ("binary.json", _write(b"\xff\xfe\x00"), "not UTF-8"),
    "profile-newer-version": ("newer.json", _profile(_set("schema_version", 99)), "schema version 99 is newer"),
    "profile-wrong-kind": ("kind.json", _profile(_set("kind", "video")), "unknown profile kind 'video'"),
    "profile-missing-field": ("missing.json", _profile(lambda d: d.pop("calibration")), r"lacks field\(s\) calibration"),
    "profile-extra-field": ("extra.json", _profile(_set("backdoor", 1)), r"unknown field\(s\) backdoor"),
    "profile-huge-arrays": ("huge.json", _profile(lambda d: d["detector"]["standardiser"].__setitem__("quantiles", [[0.0] * 201] * 10_000)), "invalid profile content"),
    "profile-checksum": ("edited.json", lambda path: _checksum_broken(path), "checksum mismatch"),
}


def _checksum_broken(path):
    """A valid profile edited after it was written, so that its checksum no longer matches."""
    _profile(lambda document: None)(path)
    document = json.loads(Path(path).read_text())
    document["training"]["n_files"] += 1
    Path(path).write_text(json.dumps(document))


# The kind each case is read as, when its extension does not decide it.
KIND_OF = {name: "image" for name in CASES}
# Caps lowered for the cases that test them, so that the corpus stays small.
OPTIONS = {"midi-many-notes": ["--max-notes", "2000"]}


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    folder.mkdir(parents=True, exist_ok=True)
    for name, (file_name, build, _) in {**CASES, **PROFILE_CASES}.items():
        build(folder / file_name)
    print(f"wrote {len(CASES) + len(PROFILE_CASES)} files to {folder}")


if __name__ == "__main__":
    main()
