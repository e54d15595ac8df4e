"""Piano rolls from MIDI, chroma transitions, violations and note durations."""

import json
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
from scipy.stats import ks_2samp
from typer.testing import CliRunner

from gandetect.cli import app
from gandetect.errors import InputError
from gandetect.music import (
    DurationReference,
    TransitionReference,
    chroma_states,
    note_durations,
    state_names,
    transitions,
)
from gandetect.pianoroll import read_midi

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bach"
runner = CliRunner()


def _write_midi(path, notes, *, tempo=120.0, drums=False):
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    instrument = pretty_midi.Instrument(program=0, is_drum=drums)
    for pitch, start, end in notes:
        instrument.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=start, end=end))
    midi.instruments.append(instrument)
    midi.write(str(path))
    return path


def test_roll_matches_pretty_midi_on_the_grid(tmp_path):
    notes = [(60, 0.0, 0.5), (64, 0.125, 0.375), (67, 0.5, 1.0), (48, 0.75, 1.5)]
    path = _write_midi(tmp_path / "grid.mid", notes)

    roll, _ = read_midi(path)
    # At 120 BPM a 16th note lasts 0.125 s, so fs = 8 samples the same grid.
    expected = pretty_midi.PrettyMIDI(str(path)).get_piano_roll(fs=8)[24:88] / 127.0

    # Notes start and end on grid points, where truncation and snapping agree.
    assert roll.shape == expected.shape
    np.testing.assert_array_equal(roll, expected)


def test_roll_follows_tempo_changes(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    track.append(mido.Message("note_on", note=60, velocity=100, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60), time=0))
    track.append(mido.Message("note_on", note=62, velocity=100, time=0))
    track.append(mido.Message("note_off", note=62, velocity=0, time=480))
    midi.tracks.append(track)
    path = tmp_path / "tempo.mid"
    midi.save(path)

    roll, _ = read_midi(path)

    # One beat each: four 16th steps at 120 BPM, then four at 60 BPM.
    assert roll.shape[1] == 8
    np.testing.assert_array_equal(roll[60 - 24], [100 / 127] * 4 + [0] * 4)
    np.testing.assert_array_equal(roll[62 - 24], [0] * 4 + [100 / 127] * 4)


def test_note_just_before_grid_point_keeps_its_column(tmp_path):
    path = _write_midi(tmp_path / "early.mid", [(60, 0.12499, 0.37499)])

    roll, _ = read_midi(path)

    np.testing.assert_array_equal(roll[60 - 24, :3], [0.0, 100 / 127, 100 / 127])


def test_one_note_file_has_defined_result(tmp_path):
    path = _write_midi(tmp_path / "one.mid", [(60, 0.0, 0.25)])

    result = runner.invoke(app, ["score", str(path), "--json"])

    record = json.loads(result.stdout)["results"][-1]
    assert record["unit"] == "file"
    assert record["verdict"] in ("real", "gan")
    assert record["error"] is None
    assert record["details"]["patches"] == 1


def _midi_with_tempo(path, microseconds_per_beat):
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=microseconds_per_beat, time=0))
    track.append(mido.Message("note_on", note=60, velocity=100, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    midi.tracks.append(track)
    midi.save(path)
    return path


def test_bad_midi_files_raise_one_line_errors(tmp_path):
    good = _write_midi(tmp_path / "good.mid", [(60, 0.0, 0.5)])
    cases = [
        (_write_midi(tmp_path / "silent.mid", []), "no pitched notes found"),
        (_write_midi(tmp_path / "drums.mid", [(38, 0.0, 0.5)], drums=True), "drum tracks are left out"),
        (_write_midi(tmp_path / "low.mid", [(10, 0.0, 0.5)]), "pitches span 10-10, outside the profile's range 24-87"),
        (_midi_with_tempo(tmp_path / "fast.mid", 1), "tempo 6e\\+07 BPM is outside"),
        (_midi_with_tempo(tmp_path / "slow.mid", 0xFFFFFF), "tempo 3.57628 BPM"),
    ]
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01" + good.read_bytes()[10:20])
    cases.append((corrupt, "not a readable MIDI file"))
    garbage = tmp_path / "garbage.mid"
    garbage.write_bytes(b"this is not midi at all")
    cases.append((garbage, "not a readable MIDI file"))

    for path, message in cases:
        if "slow" in path.name:
            # 3.6 BPM is slow but allowed: the file reads.
            read_midi(path)
            continue
        with pytest.raises(InputError, match=message) as caught:
            read_midi(path)
        assert "\n" not in str(caught.value)
        assert str(caught.value).startswith(str(path))


def test_huge_tick_count_is_rejected(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=1)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", note=60, velocity=100, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=10_000_000))
    midi.tracks.append(track)
    path = tmp_path / "long.mid"
    midi.save(path)

    with pytest.raises(InputError, match="not a readable MIDI file .*largest tick"):
        read_midi(path)


def test_chroma_states_by_hand():
    roll = np.zeros((24, 3))
    roll[0, 0] = 1.0  # pitch 24 = C
    roll[12, 0] = 1.0  # pitch 36 = C again: the same bit
    roll[4, 1] = 0.6  # E
    roll[7, 1] = 0.4  # G below the threshold: off

    states = chroma_states(roll, pitch_low=24)

    np.testing.assert_array_equal(states, [1, 1 << 4, 0])
    assert state_names(1 | 1 << 4 | 1 << 7) == "C E G"
    assert state_names(0) == "rest"


def test_violations_are_located():
    reference = TransitionReference(transitions(np.array([1, 16, 1])))
    states = np.array([1, 16, 128, 1])

    violations = reference.violations(states)
    located = reference.locate(states)

    np.testing.assert_array_equal(violations, [False, True, True])
    assert [(item.step, item.from_chroma, item.to_chroma) for item in located] == [(1, "E", "G"), (2, "G", "C")]


def test_note_durations_by_hand():
    roll = np.zeros((3, 8))
    roll[0, 0:3] = 1.0
    roll[0, 5:8] = 1.0
    roll[2, 4] = 1.0

    np.testing.assert_array_equal(np.sort(note_durations(roll)), [1, 3, 3])
    assert note_durations(np.zeros((3, 8))).size == 0


def test_compare_on_fixtures_orders_sets():
    sets = [FIXTURES / "real-heldout", FIXTURES / "wgan-gp.npz", FIXTURES / "bernoulli.npz"]

    result = runner.invoke(app, ["compare", *map(str, sets), "--kind", "pianoroll", "--json"])

    assert result.exit_code == 0, result.output
    real, gan, bernoulli = json.loads(result.stdout)["sets"]
    assert real["kind"] == gan["kind"] == "pianoroll"
    share = [row["violations"] / row["transitions"] for row in (real, gan, bernoulli)]
    assert share[0] < share[1] < share[2]
    assert real["duration_ks_statistic"] < gan["duration_ks_statistic"]


def test_compare_duration_ks_matches_scipy():
    result = runner.invoke(app, ["compare", str(FIXTURES / "wgan-gp.npz"), "--kind", "pianoroll", "--json"])
    row = json.loads(result.stdout)["sets"][0]

    from gandetect.profile import load_bundled_profile

    reference = load_bundled_profile("pianoroll").document["reference"]
    pooled_reference = DurationReference(reference["durations"], reference["duration_counts"]).pooled_values()
    samples = np.load(FIXTURES / "wgan-gp.npz")["samples"]
    durations = np.concatenate([note_durations(sample) for sample in samples])
    expected = ks_2samp(durations, pooled_reference)

    assert row["duration_ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert row["duration_p_value"] == pytest.approx(expected.pvalue, abs=1e-12)


def test_restated_time_signature_gives_no_empty_beats(tmp_path):
    # music21 restates the time signature at one tick once per part at repeats;
    # pretty_midi then returns zero-length beats.
    midi = mido.MidiFile(ticks_per_beat=480, type=1)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    for delay in (960, 0, 0):
        meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=delay))
    midi.tracks.append(meta)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", note=60, velocity=127, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=1920))
    midi.tracks.append(track)
    path = tmp_path / "restated.mid"
    midi.save(path)

    roll, _ = read_midi(path)

    # Four beats at 120 BPM: 16 steps, all on.
    assert roll.shape == (64, 16)
    np.testing.assert_array_equal(roll[60 - 24], np.ones(16))


def test_soft_velocities_read_as_sounding_notes(tmp_path):
    loud = _write_midi(tmp_path / "loud.mid", [(60, 0.0, 0.5), (64, 0.5, 1.0)])
    soft = tmp_path / "soft.mid"
    midi = pretty_midi.PrettyMIDI(str(loud))
    for note in midi.instruments[0].notes:
        note.velocity = 40
    midi.write(str(soft))

    loud_roll, _ = read_midi(loud, note_values="binary")
    soft_roll, _ = read_midi(soft, note_values="binary")
    scaled_roll, _ = read_midi(soft)

    np.testing.assert_array_equal(soft_roll, loud_roll)
    assert soft_roll.max() == 1.0
    assert scaled_roll.max() == pytest.approx(40 / 127)


def test_zero_tempo_is_one_line_error(tmp_path):
    path = _midi_with_tempo(tmp_path / "zero.mid", 0)

    with pytest.raises(InputError, match="tempo of 0 microseconds per beat"):
        read_midi(path)


def test_unreadable_midi_is_a_file_record(tmp_path):
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd not really a MIDI file")

    result = runner.invoke(app, ["score", str(broken), "--json"])

    record = json.loads(result.stdout)["results"][0]
    assert result.exit_code == 2
    assert record["unit"] == "file"
    assert record["error"].startswith(str(broken))
