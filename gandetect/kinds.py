"""Kinds of sample: how each is read, which statistics it gets, what its profile stores.

A kind turns files into batches of 2-D samples with values in [0, 1] and
computes a fixed list of named statistics per sample. Everything after
that (standardising, the mixture density, calibration, verdicts) is shared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gandetect.audio import AUDIO_SUFFIXES
from gandetect.errors import InputError, ProfileError
from gandetect.loading import ARRAY_SUFFIXES, IMAGE_SUFFIXES, Batch, check_readable, read_samples, split_columns
from gandetect.statistics import (
    SPATIAL_DESCRIPTIONS,
    SPECTRAL_DESCRIPTIONS,
    VALUE_DESCRIPTIONS,
    VALUE_GRID,
    ValueReference,
    quantise_levels,
    spatial_statistics,
    spectral_statistics,
    value_statistics,
)


MIDI_SUFFIXES = frozenset({".mid", ".midi"})

# MIDI and audio files: scored as patches plus one result for the whole file.
WHOLE_FILE_SUFFIXES = MIDI_SUFFIXES | AUDIO_SUFFIXES


@dataclass
class ReadOptions:
    """Options for reading input files, shared by every kind (each uses the ones that apply)."""

    value_range: str = "auto"
    npz_key: str | None = None
    sample_shape: tuple[int, int] | None = None
    max_pixels: int = 1 << 24
    max_array_elements: int = 1 << 28
    max_seconds: float = 3600.0
    max_notes: int = 1 << 20
    max_steps: int = 1 << 20


class ReferenceAccumulator:
    """Mergeable sums over reference samples: value counts on the 1/65535 grid."""

    def __init__(self) -> None:
        self.level_counts = np.zeros(VALUE_GRID + 1, dtype=np.int64)

    def add(self, values: np.ndarray, unit: str = "") -> None:
        """Add one sample's values, shape (rows, columns) in [0, 1], from file or sample ``unit``."""
        self.add_many(values[np.newaxis], [unit])

    def add_many(self, values: np.ndarray, units: list[str]) -> None:
        """Add samples of shape (n, rows, columns), sample ``i`` from file or sample ``units[i]``."""
        self.level_counts += np.bincount(quantise_levels(values).ravel(), minlength=VALUE_GRID + 1)

    def merge(self, other: "ReferenceAccumulator") -> None:
        """Add the sums of ``other``, filled from other files."""
        self.level_counts += other.level_counts

    def to_json(self) -> dict[str, Any]:
        reference = ValueReference.from_level_counts(self.level_counts)
        return {"value_levels": reference.levels.tolist(), "value_counts": reference.counts.tolist()}


@dataclass
class Context:
    """Reference data that a kind's statistics need from a profile: the value distribution."""

    values: ValueReference

    def for_reference_samples(self) -> "Context":
        """Return the context for computing statistics of the reference samples themselves."""
        return self


class Kind:
    """Base of the sample kinds; subclasses fix the statistics and the readers."""

    #: Extensions taken inside folders and recognised on the command line.

    name: ClassVar[str]
    suffixes: ClassVar[frozenset[str]]
    bundled_profile: ClassVar[str]
    descriptions: ClassVar[dict[str, str]]
    perturbation_features: ClassVar[tuple[str, ...]] = ()
    columns_fixed: ClassVar[bool] = True

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.descriptions)

    def default_representation(self) -> dict[str, Any]:
        return {}

    def read(self, path: str | os.PathLike, options: ReadOptions, representation: dict[str, Any]) -> Batch:
        raise NotImplementedError

    def accumulator_for(self, representation: dict[str, Any]) -> ReferenceAccumulator:
        """New mergeable sums for fitting a profile with this representation."""
        return ReferenceAccumulator()

    def context_for(self, reference: dict[str, Any], representation: dict[str, Any]) -> Context:
        """Unpack the profile's ``reference`` section; raises ValueError or KeyError when invalid."""
        return Context(ValueReference(reference["value_levels"], reference["value_counts"]))

    def features(self, values: np.ndarray, context: Context) -> np.ndarray:
        """Statistics of each sample, shape (n, len(feature_names)); NaN where undefined."""
        named = self.named_features(values, context)
        return np.column_stack([named[name] for name in self.feature_names])

    def named_features(self, values: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def details(self, values: np.ndarray, context: Context, offset: int = 0) -> dict[str, Any]:
        """Kind-specific evidence for one sample of shape (rows, columns), such as located violations.

        ``offset`` is the column where the sample starts in its recording.
        """
        return {}

    def file_details(self, patch_details: list[dict[str, Any]]) -> dict[str, Any]:
        """Kind-specific evidence for a whole file, from the details of its patches."""
        return {}

    def new_set_summary(self, context: Context) -> "SetSummary":
        return SetSummary()


class SetSummary:
    """Extra set-level columns of ``compare``; the base kind has none."""

    def add(self, values: np.ndarray) -> None:
        """Add one sample of shape (rows, columns)."""

    def to_json(self) -> dict[str, Any]:
        return {}


class ImageKind(Kind):
    """Grayscale images and image arrays: value, spatial and spectral statistics."""

    name = "image"
    suffixes = IMAGE_SUFFIXES | ARRAY_SUFFIXES
    bundled_profile = "mnist.json"
    descriptions = {**VALUE_DESCRIPTIONS, **SPATIAL_DESCRIPTIONS, **SPECTRAL_DESCRIPTIONS}
    # One value away from the modes holding much mass (mode + eps) marks a
    # small bounded perturbation of a real sample.
    perturbation_features = ("peak_level_share",)

    def read(self, path: str | os.PathLike, options: ReadOptions, representation: dict[str, Any]) -> Batch:
        return read_samples(
            path,
            value_range=options.value_range,
            npz_key=options.npz_key,
            sample_shape=options.sample_shape,
            max_pixels=options.max_pixels,
            max_array_elements=options.max_array_elements,
        )

    def named_features(self, values: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        values = np.asarray(values, dtype=np.float64)
        return {
            **value_statistics(values, context.values),
            **spatial_statistics(values),
            **spectral_statistics(values),
        }


PATCH_STEPS = 64

# Violations located per sample in the evidence; the count covers all of them.
MAX_LOCATED = 20


class PianoRollAccumulator(ReferenceAccumulator):
    """Reference sums of a piano-roll profile: value counts, transitions seen, duration counts.

    Each transition also counts the files (pieces) it was seen in, so that a
    reference piece can be checked against the transitions of the other
    pieces only: checked against its own, it could never violate anything.
    """

    def __init__(self, pitch_low: int) -> None:
        super().__init__()
        self.pitch_low = pitch_low
        self.transition_units: dict[int, list] = {}
        self.duration_counts: dict[int, int] = {}

    def add_many(self, values: np.ndarray, units: list[str]) -> None:
        from gandetect.music import chroma_states, note_durations, transitions

        super().add_many(values, units)
        for sample, unit in zip(values, units):
            for code in np.unique(transitions(chroma_states(sample, self.pitch_low))).tolist():
                entry = self.transition_units.setdefault(code, [0, None])
                # Patches of one file arrive together, so comparing with the last unit counts files.
                if entry[1] != unit:
                    entry[0] += 1
                    entry[1] = unit
            durations, counts = np.unique(note_durations(sample), return_counts=True)
            for duration, count in zip(durations.tolist(), counts.tolist()):
                self.duration_counts[duration] = self.duration_counts.get(duration, 0) + count

    def merge(self, other: "ReferenceAccumulator") -> None:
        """Add the sums of ``other``; its files must differ from this one's."""
        super().merge(other)
        for code, (files, _) in other.transition_units.items():
            entry = self.transition_units.setdefault(code, [0, None])
            entry[0] += files
        for duration, count in other.duration_counts.items():
            self.duration_counts[duration] = self.duration_counts.get(duration, 0) + count

    def to_json(self) -> dict[str, Any]:
        durations = sorted(self.duration_counts)
        codes = sorted(self.transition_units)
        return {
            **super().to_json(),
            "transitions": codes,
            "transition_file_counts": [self.transition_units[code][0] for code in codes],
            "durations": durations,
            "duration_counts": [self.duration_counts[duration] for duration in durations],
        }


@dataclass
class PianoRollContext(Context):
    """The reference of a piano-roll profile: values, transitions seen, note durations."""

    transitions: Any = None
    shared_transitions: Any = None
    durations: Any = None
    pitch_low: int = 24

    def for_reference_samples(self) -> "PianoRollContext":
        """Return the context for the reference pieces themselves, where transitions seen in one piece only do not count."""
        return PianoRollContext(self.values, self.shared_transitions, self.shared_transitions, self.durations, self.pitch_low)


class PianoRollSummary(SetSummary):
    """Set-level chroma violations and pooled note durations: the violations and duration tables of ``compare``."""

    def __init__(self, context: PianoRollContext) -> None:
        self.context = context
        self.n_violations = 0
        self.n_transitions = 0
        self.durations: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        from gandetect.music import chroma_states, note_durations

        states = chroma_states(values, self.context.pitch_low)
        self.n_violations += int(self.context.transitions.violations(states).sum())
        self.n_transitions += max(states.size - 1, 0)
        self.durations.append(note_durations(values))

    def pooled_durations(self) -> np.ndarray:
        """Return the duration of every note added so far, shape (notes,), int64 steps >= 1."""
        return np.concatenate(self.durations) if self.durations else np.empty(0, dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        from scipy.stats import ks_2samp

        from gandetect.music import duration_histogram
        from gandetect.statistics import jensen_shannon_between

        durations = self.pooled_durations()
        result: dict[str, Any] = {
            "violations": self.n_violations,
            "transitions": self.n_transitions,
            "n_notes": int(durations.size),
            "duration_ks_statistic": None,
            "duration_p_value": None,
            "duration_jsd": None,
        }
        if durations.size:
            test = ks_2samp(durations, self.context.durations.pooled_values())
            histogram = duration_histogram(durations)
            result["duration_ks_statistic"] = float(test.statistic)
            result["duration_p_value"] = float(test.pvalue)
            result["duration_jsd"] = float(
                jensen_shannon_between(histogram / histogram.sum(), self.context.durations.histogram)
            )
        return result


class PianoRollKind(Kind):
    """Piano rolls from MIDI files, arrays or images: values, chroma transitions, durations, spectra."""

    name = "pianoroll"
    suffixes = MIDI_SUFFIXES | ARRAY_SUFFIXES | IMAGE_SUFFIXES
    bundled_profile = "bach.json"
    descriptions = {
        **{key: value for key, value in VALUE_DESCRIPTIONS.items() if key != "peak_level_share"},
        "violation_share": "share of chroma transitions never seen in the reference pieces",
        "polyphony_mean": "mean number of on cells (above 0.5) per step",
        "polyphony_std": "standard deviation of the number of on cells per step",
        "duration_ks": "KS statistic of the note durations against the reference durations",
        "duration_jsd": "Jensen-Shannon divergence (bits) of the note-duration histogram",
        **SPECTRAL_DESCRIPTIONS,
    }

    def default_representation(self) -> dict[str, Any]:
        from gandetect.pianoroll import PianoRollGrid

        grid = PianoRollGrid()
        return {
            "steps_per_beat": grid.steps_per_beat,
            "pitch_low": grid.pitch_low,
            "pitch_count": grid.pitch_count,
            "patch_steps": PATCH_STEPS,
            # Score encodings carry no dynamics: a sounding note is 1 whatever its velocity.
            "note_values": "binary",
        }

    def read(self, path: str | os.PathLike, options: ReadOptions, representation: dict[str, Any]) -> Batch:
        from gandetect.pianoroll import PianoRollGrid, read_midi

        grid = PianoRollGrid(
            steps_per_beat=int(representation["steps_per_beat"]),
            pitch_low=int(representation["pitch_low"]),
            pitch_count=int(representation["pitch_count"]),
        )
        source = os.fsdecode(path)
        suffix = os.path.splitext(source)[1].lower()
        patch_steps = int(representation["patch_steps"])
        if suffix in (".mid", ".midi"):
            check_readable(path)
            roll, notes = read_midi(
                path,
                grid,
                max_steps=options.max_steps,
                max_notes=options.max_notes,
                note_values=representation.get("note_values", "velocity"),
            )
            return _patch_batch(roll, patch_steps, source, notes, unit="steps", filler="rests")

        batch = ImageKind().read(path, options, representation)
        if suffix in IMAGE_SUFFIXES:
            # Images show high pitches at the top; rows here ascend in pitch.
            batch.values = batch.values[:, ::-1, :].copy()
            batch.notes.append("image rows flipped so that row 0 is the lowest pitch")
        rows = batch.values.shape[1]
        if rows != grid.pitch_count:
            raise InputError(
                f"{source}: piano roll has {rows} pitch rows, but the profile covers {grid.pitch_count} "
                f"(MIDI {grid.pitch_low}-{grid.pitch_high}); crop or pad the rows to that range, "
                "or fit a profile with --pitch-low and --pitch-count"
            )
        return batch

    def accumulator_for(self, representation: dict[str, Any]) -> ReferenceAccumulator:
        return PianoRollAccumulator(int(representation["pitch_low"]))

    def context_for(self, reference: dict[str, Any], representation: dict[str, Any]) -> Context:
        from gandetect.music import DurationReference, TransitionReference

        codes = np.asarray(reference["transitions"], dtype=np.int64)
        file_counts = np.asarray(reference["transition_file_counts"], dtype=np.int64)
        if codes.shape != file_counts.shape:
            raise ValueError("transitions and transition_file_counts differ in length")
        return PianoRollContext(
            values=ValueReference(reference["value_levels"], reference["value_counts"]),
            transitions=TransitionReference(codes),
            shared_transitions=TransitionReference(codes[file_counts >= 2]),
            durations=DurationReference(reference["durations"], reference["duration_counts"]),
            pitch_low=int(representation["pitch_low"]),
        )

    def named_features(self, values: np.ndarray, context: PianoRollContext) -> dict[str, np.ndarray]:
        from gandetect.music import chroma_states, duration_histogram, note_durations
        from gandetect.statistics import jensen_shannon_between, ks_statistic_counts

        values = np.asarray(values, dtype=np.float64)
        named = value_statistics(values, context.values)
        named.pop("peak_level_share")
        n = values.shape[0]
        violation_share = np.zeros(n)
        polyphony_mean = np.zeros(n)
        polyphony_std = np.zeros(n)
        duration_ks = np.full(n, np.nan)
        duration_jsd = np.full(n, np.nan)
        for i, roll in enumerate(values):
            states = chroma_states(roll, context.pitch_low)
            if states.size > 1:
                violation_share[i] = context.transitions.violations(states).mean()
            polyphony = (roll > 0.5).sum(axis=0)
            polyphony_mean[i] = polyphony.mean()
            polyphony_std[i] = polyphony.std()
            durations = note_durations(roll)
            if durations.size:
                distinct, counts = np.unique(durations, return_counts=True)
                duration_ks[i] = ks_statistic_counts(distinct.astype(np.float64), counts, context.durations)
                histogram = duration_histogram(durations)
                duration_jsd[i] = jensen_shannon_between(histogram / histogram.sum(), context.durations.histogram)
        named.update(
            violation_share=violation_share,
            polyphony_mean=polyphony_mean,
            polyphony_std=polyphony_std,
            duration_ks=duration_ks,
            duration_jsd=duration_jsd,
        )
        named.update(spectral_statistics(values))
        return named

    def details(self, values: np.ndarray, context: PianoRollContext, offset: int = 0) -> dict[str, Any]:
        from gandetect.music import chroma_states

        states = chroma_states(values, context.pitch_low)
        count = int(context.transitions.violations(states).sum()) if states.size > 1 else 0
        located = context.transitions.locate(states, limit=MAX_LOCATED)
        for item in located:
            item.step += offset
        return {
            "violations": count,
            "transitions": max(states.size - 1, 0),
            "first_violations": [item.to_json() for item in located],
        }

    def file_details(self, patch_details: list[dict[str, Any]]) -> dict[str, Any]:
        located = [item for details in patch_details for item in details["first_violations"]]
        return {
            "violations": sum(details["violations"] for details in patch_details),
            "transitions": sum(details["transitions"] for details in patch_details),
            "first_violations": located[:MAX_LOCATED],
        }

    def new_set_summary(self, context: Context) -> SetSummary:
        return PianoRollSummary(context)


MEL_EXTRA_DESCRIPTIONS = {
    "temporal_roughness": "mean |x[band, t + 1] - x[band, t]| between consecutive frames",
    "band_roughness": "mean |x[band + 1, t] - x[band, t]| between neighbouring mel bands",
}


class MelKind(Kind):
    """Speech as compressed, scaled mel-spectrogram patches: intensity, spectral and smoothness statistics.

    Silent frames have zero column sums, so they have no spectral centroid:
    they are left out of the centroid and slope moments, and a patch with no
    sound at all has undefined (NaN) moments, which then carry no evidence.
    """

    name = "melspec"
    suffixes = AUDIO_SUFFIXES | ARRAY_SUFFIXES | IMAGE_SUFFIXES
    bundled_profile = "speech.json"
    descriptions = {
        **{key: value for key, value in VALUE_DESCRIPTIONS.items() if key != "peak_level_share"},
        **MEL_EXTRA_DESCRIPTIONS,
        **SPECTRAL_DESCRIPTIONS,
    }

    def default_representation(self) -> dict[str, Any]:
        from dataclasses import asdict

        from gandetect.audio import MelSettings

        return asdict(MelSettings())

    def read(self, path: str | os.PathLike, options: ReadOptions, representation: dict[str, Any]) -> Batch:
        from gandetect.audio import settings_from

        settings = settings_from(representation)
        source = os.fsdecode(path)
        suffix = os.path.splitext(source)[1].lower()
        if suffix in AUDIO_SUFFIXES:
            return self._read_audio(path, source, settings, options)

        batch = ImageKind().read(path, options, representation)
        if suffix in IMAGE_SUFFIXES:
            # Images show high frequencies at the top; rows here ascend in frequency.
            batch.values = batch.values[:, ::-1, :].copy()
            batch.notes.append("image rows flipped so that row 0 is the lowest mel band")
        rows, columns = batch.values.shape[1:]
        if rows != settings.n_mels:
            raise InputError(
                f"{source}: mel-spectrogram has {rows} bands, but the profile uses {settings.n_mels}; "
                "compute it with the profile's settings (gandetect inspect shows them)"
            )
        if len(batch) == 1 and columns != settings.patch_frames and len(batch.sources) == 1:
            patches = split_columns(batch.values[0], settings.patch_frames)
            return Batch(
                values=patches,
                sources=[f"{source}[{i}]" for i in range(len(patches))],
                path=source,
                notes=[*batch.notes, f"{columns} frames cut into patches of {settings.patch_frames}"],
                grouped=True,
            )
        return batch

    def _read_audio(self, path, source: str, settings, options: ReadOptions) -> Batch:
        from gandetect.audio import compressed_mel, read_audio, scale_compressed

        check_readable(path)
        samples, notes = read_audio(path, settings.sample_rate, max_seconds=options.max_seconds)
        if samples.size < settings.n_fft:
            raise InputError(
                f"{source}: {samples.size / settings.sample_rate:.3f} s of audio is shorter than one "
                f"analysis window ({settings.n_fft} samples at {settings.sample_rate} Hz)"
            )
        if not np.any(samples):
            notes.append("silent: every sample is 0")
        spectrogram = scale_compressed(compressed_mel(samples, settings), settings)
        return _patch_batch(spectrogram, settings.patch_frames, source, notes, unit="frames", filler="silence")

    def named_features(self, values: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        values = np.asarray(values, dtype=np.float64)
        named = value_statistics(values, context.values)
        named.pop("peak_level_share")
        named["temporal_roughness"] = np.abs(np.diff(values, axis=2)).mean(axis=(1, 2))
        named["band_roughness"] = np.abs(np.diff(values, axis=1)).mean(axis=(1, 2))
        named.update(spectral_statistics(values))
        return named

    def new_set_summary(self, context: Context) -> SetSummary:
        return MomentSummary()


class MomentSummary(SetSummary):
    """Set-level means and standard deviations of the spectral centroid and slope moments."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        named = spectral_statistics(np.asarray(values, dtype=np.float64)[np.newaxis])
        self.rows.append(np.array([named[name][0] for name in SPECTRAL_DESCRIPTIONS]))

    def to_json(self) -> dict[str, Any]:
        if not self.rows:
            return {"moments": {}}
        table = np.vstack(self.rows)
        with np.errstate(all="ignore"):
            means = np.nanmean(table, axis=0)
            deviations = np.nanstd(table, axis=0)
        return {
            "moments": {
                name: {"mean": _finite_or_none(mean), "std": _finite_or_none(deviation)}
                for name, mean, deviation in zip(SPECTRAL_DESCRIPTIONS, means, deviations)
            }
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _patch_batch(values: np.ndarray, width: int, source: str, notes: list[str], *, unit: str, filler: str) -> Batch:
    """Cut a whole recording or piece, shape (rows, columns), into patches of ``width`` columns as one grouped batch.

    ``unit`` names the columns (steps, frames) and ``filler`` what pads a
    recording shorter than one patch, for the note about the cut.
    """
    columns = values.shape[1]
    if columns % width:
        notes.append(
            f"{columns} {unit} cut into patches of {width}; the last {columns % width} {unit} are "
            + (f"padded with {filler}" if columns < width else "left out")
        )
    patches = split_columns(values, width)
    return Batch(
        values=patches,
        sources=[f"{source}[{i}]" for i in range(len(patches))],
        path=source,
        notes=notes,
        grouped=True,
    )


KINDS: dict[str, Kind] = {"image": ImageKind(), "pianoroll": PianoRollKind(), "melspec": MelKind()}

# Every extension that some kind reads.
ALL_SUFFIXES = frozenset().union(*(kind.suffixes for kind in KINDS.values()))


def get_kind(name: str) -> Kind:
    """Return the kind called ``name``.

    Raises
    ------
    ProfileError
        No such kind.
    """
    try:
        return KINDS[name]
    except KeyError:
        raise ProfileError(f"unknown kind {name!r}; known kinds are {', '.join(KINDS)}") from None


def kind_for_path(path: str | os.PathLike, default: str = "image") -> str:
    """Guess the kind of a file from its extension; arrays and images get ``default``."""
    suffix = os.path.splitext(os.fsdecode(path))[1].lower()
    for kind in KINDS.values():
        if kind.name != default and suffix in kind.suffixes and suffix not in IMAGE_SUFFIXES | ARRAY_SUFFIXES:
            return kind.name
    return default


def check_sample_shape(batch: Batch, expected: tuple[int, int], columns_fixed: bool, profile_source: str) -> None:
    """Raise InputError when a batch's samples do not have the profile's shape."""
    rows, columns = batch.values.shape[1:]
    if rows == expected[0] and (columns == expected[1] or not columns_fixed):
        return
    expected_text = f"{expected[0]}x{expected[1]}" if columns_fixed else f"{expected[0]} rows"
    hint = "resize the input or fit a profile on samples of this shape"
    if rows == 64 and columns == 64:
        hint = "pass --kind pianoroll or --kind melspec if these are patches of that kind, or " + hint
    raise InputError(
        f"{batch.path}: samples are {rows}x{columns}, but the profile ({profile_source}) "
        f"was fitted on {expected_text}; {hint}"
    )
