"""Read MIDI files into piano rolls on a 16th-note grid that follows the file's beats.

Rows are MIDI pitches ascending from ``pitch_low``; columns are grid steps;
values are note velocity / 127. Drum tracks are left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gandetect.errors import InputError

STEPS_PER_BEAT = 4
DEFAULT_PITCH_LOW = 24
DEFAULT_PITCH_COUNT = 64

# Caps that keep a hostile MIDI file from exhausting memory or time.
DEFAULT_MAX_STEPS = 1 << 20
DEFAULT_MAX_NOTES = 1 << 20
MIN_TEMPO_BPM = 1.0
MAX_TEMPO_BPM = 2000.0


@dataclass(frozen=True)
class PianoRollGrid:
    """The representation a piano-roll profile fixes: grid resolution and pitch range."""

    steps_per_beat: int = STEPS_PER_BEAT
    pitch_low: int = DEFAULT_PITCH_LOW
    pitch_count: int = DEFAULT_PITCH_COUNT

    @property
    def pitch_high(self) -> int:
        """Highest MIDI pitch of the range, inclusive."""
        return self.pitch_low + self.pitch_count - 1


def grid_times(
    beats: np.ndarray,
    end_time: float,
    steps_per_beat: int = STEPS_PER_BEAT,
    final_beat_length: float | None = None,
) -> np.ndarray:
    """Start times of the grid steps: each beat split into ``steps_per_beat`` equal steps.

    Beats come from ``pretty_midi.PrettyMIDI.get_beats``, so the grid follows
    tempo changes. After the last beat, beats of ``final_beat_length``
    seconds (the last tempo's beat; default: the last beat interval) are
    added until ``end_time`` is covered, because ``get_beats`` stops before
    the end of the last note.

    Parameters
    ----------
    beats : np.ndarray of shape (b,), seconds, ascending, b >= 1
    end_time : float, seconds

    Returns
    -------
    np.ndarray of shape (steps,), seconds
        Every step before ``end_time`` and the first step at or after it.
    """
    beats = np.asarray(beats, dtype=np.float64)
    if final_beat_length is not None:
        beat_length = float(final_beat_length)
    elif beats.size > 1:
        beat_length = float(beats[-1] - beats[-2])
    else:
        beat_length = 0.5
    extra = int(np.ceil(max(end_time - beats[-1], 0.0) / beat_length)) + 1
    beats = np.concatenate([beats, beats[-1] + beat_length * np.arange(1, extra + 1)])

    fractions = np.arange(steps_per_beat) / steps_per_beat
    lengths = np.diff(beats)
    steps = (beats[:-1, np.newaxis] + lengths[:, np.newaxis] * fractions).ravel()
    # Keep every step before end_time and the first step at or after it, so
    # that a note ending at end_time can snap to a step.
    n_keep = int(np.searchsorted(steps, end_time, side="left")) + 1
    return steps[:n_keep]


def snap_to_grid(times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Index of the nearest grid time for each time (ties go to the later step)."""
    midpoints = (grid[1:] + grid[:-1]) / 2.0
    return np.searchsorted(midpoints, times, side="right")


def read_midi(
    path: str | os.PathLike,
    grid: PianoRollGrid = PianoRollGrid(),
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_notes: int = DEFAULT_MAX_NOTES,
    note_values: str = "velocity",
) -> tuple[np.ndarray, list[str]]:
    """Read a MIDI file into a piano roll on the file's own 16th-note grid.

    Note starts and ends are snapped to the nearest grid step before the
    roll is filled, because truncating times (as ``get_piano_roll`` does)
    drops a column for a note at 0.12499 s on a 0.125 s grid. A note
    shorter than half a step still fills one step. Where notes of one pitch
    overlap, the louder velocity wins. With ``note_values="binary"`` every
    sounding note is 1.0 whatever its velocity, for data whose velocities
    carry no meaning (most score encodings, such as chorales).

    Returns
    -------
    roll : np.ndarray of shape (grid.pitch_count, steps), float64 in [0, 1]
        velocity / 127 per cell, or 1 for a sounding note when binary.
    notes : list of str
        Conversions applied (drum tracks left out).

    Raises
    ------
    InputError
        The file is not a readable MIDI file, has no pitched notes, a tempo
        outside 1-2000 BPM, notes outside the grid's pitch range, or more
        steps or notes than the caps.
    """
    import pretty_midi

    source = os.fsdecode(path)
    try:
        midi = pretty_midi.PrettyMIDI(source)
    except ZeroDivisionError:
        raise InputError(f"{source}: invalid MIDI data (a tempo of 0 microseconds per beat)") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, ArithmeticError) as error:
        raise InputError(f"{source}: not a readable MIDI file ({_first_line(error)})") from None

    conversions: list[str] = []
    pitched = [instrument for instrument in midi.instruments if not instrument.is_drum]
    if len(pitched) < len(midi.instruments):
        conversions.append(f"{len(midi.instruments) - len(pitched)} drum track(s) left out")
    notes = [note for instrument in pitched for note in instrument.notes]
    if not notes:
        raise InputError(
            f"{source}: no pitched notes found (drum tracks are left out); "
            "a piano roll needs at least one note"
        )
    if len(notes) > max_notes:
        raise InputError(f"{source}: {len(notes)} notes, above the cap of {max_notes}; raise --max-notes")

    _, tempi = midi.get_tempo_changes()
    bad_tempi = [tempo for tempo in tempi if not MIN_TEMPO_BPM <= tempo <= MAX_TEMPO_BPM]
    if bad_tempi:
        raise InputError(
            f"{source}: tempo {bad_tempi[0]:g} BPM is outside {MIN_TEMPO_BPM:g}-{MAX_TEMPO_BPM:g} BPM"
        )

    starts = np.array([note.start for note in notes])
    ends = np.array([note.end for note in notes])
    pitches = np.array([note.pitch for note in notes])
    if note_values not in ("velocity", "binary"):
        raise ValueError(f"note_values must be 'velocity' or 'binary', not {note_values!r}")
    velocities = np.array([note.velocity for note in notes], dtype=np.float64)
    if note_values == "binary":
        velocities = np.where(velocities > 0, 127.0, 0.0)
    end_time = float(ends.max())
    # A time signature restated at one tick (music21 does this once per part
    # at written-out repeats) makes pretty_midi return beats of zero length.
    beats = np.unique(midi.get_beats())
    if beats.size == 0:
        raise InputError(f"{source}: no beats could be derived from the tempo map")
    beat_length = min(float(np.diff(beats).min()) if beats.size > 1 else np.inf, 60.0 / float(np.max(tempi)))
    estimated_steps = end_time / beat_length * grid.steps_per_beat
    if not np.isfinite(estimated_steps) or estimated_steps > max_steps:
        raise InputError(
            f"{source}: the piece lasts {end_time:g} s, about {estimated_steps:.3g} grid steps, "
            f"above the cap of {max_steps}; raise --max-steps"
        )

    outside = (pitches < grid.pitch_low) | (pitches > grid.pitch_high)
    if outside.any():
        low, high = int(pitches.min()), int(pitches.max())
        raise InputError(
            f"{source}: pitches span {low}-{high}, outside the profile's range "
            f"{grid.pitch_low}-{grid.pitch_high}; transpose the piece or fit a profile with "
            f"--pitch-low {low} --pitch-count {max(high - low + 1, 1)}"
        )

    times = grid_times(beats, end_time, grid.steps_per_beat, final_beat_length=60.0 / float(tempi[-1]))
    start_steps = snap_to_grid(starts, times)
    end_steps = np.maximum(snap_to_grid(ends, times), start_steps + 1)
    roll = np.zeros((grid.pitch_count, int(end_steps.max())))
    for pitch, start, end, velocity in zip(pitches - grid.pitch_low, start_steps, end_steps, velocities):
        roll[pitch, start:end] = np.maximum(roll[pitch, start:end], velocity / 127.0)
    return roll, conversions


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
