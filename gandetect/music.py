"""Piano-roll statistics: boolean chroma, chroma transitions and their violations, note durations.

A piano roll has rows = MIDI pitches ascending from ``pitch_low`` and
columns = time steps, values in [0, 1]. Following "Interesting properties of
GAN samples", cells above 0.5 are on; each step's chroma is the set of pitch
classes with an on cell, stored as a 12-bit mask (bit 0 = C). Every pair of
consecutive chroma states is a transition; the transitions seen in the
reference pieces are the specification and any other is a violation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ON_THRESHOLD = 0.5
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
N_STATES = 1 << 12

# Durations longer than this many steps share the last histogram bin.
MAX_DURATION_BIN = 64


def chroma_states(roll: np.ndarray, pitch_low: int) -> np.ndarray:
    """12-bit chroma mask of every step of a piano roll.

    Parameters
    ----------
    roll : np.ndarray of shape (pitches, steps), values in [0, 1]
    pitch_low : int
        MIDI pitch of row 0.

    Returns
    -------
    np.ndarray of shape (steps,), int64 in [0, 4095]
        Bit ``k`` is set when some pitch of class ``k`` (0 = C) is on, that is
        above 0.5. A step with no note has state 0.
    """
    on = (np.asarray(roll) > ON_THRESHOLD).astype(np.int64)
    pitch_class = (pitch_low + np.arange(on.shape[0])) % 12
    membership = (pitch_class[np.newaxis, :] == np.arange(12)[:, np.newaxis]).astype(np.int64)
    # A pitch class may have several on pitches at once: count them, then
    # keep one bit per class that has any.
    class_on = (membership @ on > 0).astype(np.int64)
    return (1 << np.arange(12, dtype=np.int64)) @ class_on


def transitions(states: np.ndarray) -> np.ndarray:
    """Codes ``from * 4096 + to`` of every pair of consecutive states, shape (steps - 1,)."""
    states = np.asarray(states, dtype=np.int64)
    return states[:-1] * N_STATES + states[1:]


def state_names(state: int) -> str:
    """Note names of a chroma mask, e.g. ``"C E G"``; ``"rest"`` for the empty state."""
    names = [NOTE_NAMES[k] for k in range(12) if state >> k & 1]
    return " ".join(names) if names else "rest"


def note_durations(roll: np.ndarray) -> np.ndarray:
    """Lengths in steps of every run of on cells, row by row.

    Repeated notes of one pitch with no gap merge into one run, because a
    piano roll does not mark note onsets. Runs cut by the edge of the roll
    count with the length they have inside it.

    Returns
    -------
    np.ndarray of shape (notes,), int64 >= 1; empty for a roll with no on cell.
    """
    on = np.asarray(roll) > ON_THRESHOLD
    padded = np.zeros((on.shape[0], on.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = on
    changes = np.diff(padded, axis=1)
    starts = np.flatnonzero(changes.ravel() == 1)
    ends = np.flatnonzero(changes.ravel() == -1)
    return (ends - starts).astype(np.int64)


def duration_histogram(durations: np.ndarray) -> np.ndarray:
    """Counts of durations 1 .. 64 steps, with longer ones in the last bin, shape (64,)."""
    clipped = np.minimum(np.asarray(durations, dtype=np.int64), MAX_DURATION_BIN)
    return np.bincount(clipped - 1, minlength=MAX_DURATION_BIN)


@dataclass
class Violation:
    """A chroma transition absent from the reference: where it happens and what it is."""

    step: int
    from_chroma: str
    to_chroma: str

    def to_json(self) -> dict:
        return {"step": self.step, "from": self.from_chroma, "to": self.to_chroma}


class TransitionReference:
    """The set of chroma transitions seen in the reference pieces.

    Parameters
    ----------
    codes : np.ndarray of shape (k,), int
        Distinct transition codes ``from * 4096 + to``.
    """

    def __init__(self, codes: np.ndarray) -> None:
        codes = np.unique(np.asarray(codes, dtype=np.int64))
        if codes.size and (codes[0] < 0 or codes[-1] >= N_STATES * N_STATES):
            raise ValueError("transition codes must lie in 0 .. 4096 * 4096 - 1")
        self.codes = codes

    def violations(self, states: np.ndarray) -> np.ndarray:
        """Boolean mask over the transitions of ``states``: True where unseen in the reference."""
        codes = transitions(states)
        if self.codes.size == 0:
            return np.ones(codes.shape, dtype=bool)
        # The reference codes are sorted and unique: a binary search per transition,
        # where np.isin would sort the reference again on every call.
        index = np.minimum(np.searchsorted(self.codes, codes), self.codes.size - 1)
        return self.codes[index] != codes

    def locate(self, states: np.ndarray, limit: int = 20) -> list[Violation]:
        """Locate the first ``limit`` violations of a state sequence, with step and note names."""
        states = np.asarray(states, dtype=np.int64)
        steps = np.flatnonzero(self.violations(states))[:limit]
        return [Violation(int(t), state_names(int(states[t])), state_names(int(states[t + 1]))) for t in steps]


class DurationReference:
    """Note durations of the reference pieces, as exact counts.

    Parameters
    ----------
    durations : np.ndarray of shape (k,), int
        Distinct durations in steps, ascending, >= 1.
    counts : np.ndarray of shape (k,), int
        How many reference notes have each duration.
    """

    def __init__(self, durations: np.ndarray, counts: np.ndarray) -> None:
        durations = np.asarray(durations, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        if durations.ndim != 1 or durations.shape != counts.shape or durations.size == 0:
            raise ValueError("durations and counts must be non-empty 1-D arrays of one length")
        if np.any(np.diff(durations) <= 0) or durations[0] < 1 or np.any(counts <= 0):
            raise ValueError("durations must ascend from 1 and every count must be positive")
        self.durations = durations
        self.counts = counts
        self.total = int(counts.sum())
        self.values = durations.astype(np.float64)
        self.cdf = np.cumsum(counts) / self.total
        histogram = np.zeros(MAX_DURATION_BIN)
        np.add.at(histogram, np.minimum(durations, MAX_DURATION_BIN) - 1, counts)
        self.histogram = histogram / histogram.sum()

    def cdf_at(self, x: np.ndarray) -> np.ndarray:
        """Right-continuous reference CDF at ``x``."""
        index = np.searchsorted(self.values, x, side="right")
        return np.concatenate([[0.0], self.cdf])[index]

    def pooled_values(self) -> np.ndarray:
        """Expand the counts to every reference duration."""
        return np.repeat(self.durations, self.counts)
