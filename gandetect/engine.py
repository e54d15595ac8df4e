"""Fit, score and compare: the operations behind the command line, as a Python API.

Nothing here prints or exits. Results are dataclasses whose ``to_json``
output is exactly what ``--json`` prints.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gandetect import __version__
from gandetect.detector import (
    GaussianMixtureDensity,
    LinearScore,
    Standardiser,
    empirical_pvalue,
    perturbation_score,
)
from gandetect.errors import GandetectError, InputError, ProfileError, UsageError
from gandetect.kinds import ALL_SUFFIXES, WHOLE_FILE_SUFFIXES, Context, Kind, ReadOptions, check_sample_shape, get_kind
from gandetect.loading import Batch
from gandetect.profile import PROFILE_FORMAT, SCHEMA_VERSION, Profile
from gandetect.statistics import VALUE_GRID, ks_pvalue

DEFAULT_LEVEL = 0.01
DEFAULT_CALIBRATION_SHARE = 0.25
DEFAULT_SEED = 0
MAX_REFERENCE_SAMPLES = 10_000
MAX_CALIBRATION_SAMPLES = 5_000

# Samples scored per call of Kind.features: bounds the memory of a large stack.
CHUNK = 1024

# Files per group: the unit of pooling small samples and of work sent to a worker process.
FILES_PER_TASK = 128


# ---------------------------------------------------------------- inputs


def iter_input_files(
    paths: Iterable[str | os.PathLike], suffixes: frozenset[str] | None = None
) -> Iterator[tuple[str, str]]:
    """Yield ``(path, id)`` for every input file, folders walked recursively in sorted order.

    A file named directly is yielded whatever its extension, so that an
    unsupported one gets an error. Inside folders, only files with a known
    extension are taken and symbolic links to folders are not followed, so a
    link loop cannot recurse. The id is the path relative to the folder
    given, used to split fitting data deterministically.

    Parameters
    ----------
    suffixes : frozenset of str, optional
        Extensions taken inside folders; default: those of every kind.
    """
    if suffixes is None:
        suffixes = ALL_SUFFIXES
    for root, path in _walk(paths, suffixes):
        yield path, (os.path.basename(path) if root is None else os.path.relpath(path, root).replace(os.sep, "/"))


def _walk(
    paths: Iterable[str | os.PathLike], suffixes: frozenset[str], skipped: Counter | None = None
) -> Iterator[tuple[str | None, str]]:
    """Yield ``(root, path)`` for every input file: the folder named on input, or None for a file named directly.

    Files inside folders that another kind would read are counted by
    extension in ``skipped``, so that callers can say what they left out.
    """
    for named in paths:
        root = os.fsdecode(named)
        if not os.path.isdir(root):
            yield None, root
            continue
        for folder, subfolders, files in os.walk(root):
            subfolders.sort()
            for name in sorted(files):
                suffix = os.path.splitext(name)[1].lower()
                if suffix in suffixes:
                    yield root, os.path.join(folder, name)
                elif skipped is not None and suffix in ALL_SUFFIXES:
                    skipped[suffix] += 1


def set_files(path: str, suffixes: frozenset[str]) -> Iterator[str]:
    """Yield the files of one set (a file, or a folder walked), warning at the end about files of other kinds."""
    skipped: Counter = Counter()
    for _, file_path in _walk([path], suffixes, skipped):
        yield file_path
    if skipped:
        import warnings

        warnings.warn(f"{path}: skipped {skipped_text(skipped)} that the profile's kind does not read", stacklevel=2)


def skipped_text(skipped: Counter) -> str:
    """Describe skipped files by extension, e.g. ``79 .mid files``."""
    return ", ".join(f"{count} {suffix} {'file' if count == 1 else 'files'}" for suffix, count in sorted(skipped.items()))


def _split_key(sample_id: str, seed: int) -> float:
    """Uniform number in [0, 1) from the sample id: the same id always lands on the same side."""
    digest = hashlib.blake2b(f"{seed}:{sample_id}".encode("utf-8", "surrogateescape"), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2.0**64


# ---------------------------------------------------------------- fitting


class _BottomK:
    """The ``capacity`` ids with the smallest keys: a bounded, order-independent sample."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.keys: list[float] = []
        self.ids: list[str] = []

    def add(self, key: float, sample_id: str) -> None:
        self.keys.append(key)
        self.ids.append(sample_id)
        if len(self.keys) > 2 * self.capacity:
            self._trim()

    def _trim(self) -> None:
        order = np.argsort(self.keys, kind="stable")[: self.capacity]
        self.keys = [self.keys[i] for i in order]
        self.ids = [self.ids[i] for i in order]

    def selected(self) -> set[str]:
        self._trim()
        return set(self.ids)


def fit_profile(
    sources: Iterable[tuple[str, Batch]] | None = None,
    *,
    kind: str = "image",
    paths: Iterable[str | os.PathLike] | None = None,
    files: Iterable[tuple[str | os.PathLike, str]] | None = None,
    read_options: ReadOptions | None = None,
    representation: dict[str, Any] | None = None,
    calibration_share: float = DEFAULT_CALIBRATION_SHARE,
    seed: int = DEFAULT_SEED,
    description: str = "",
    gan_paths: Iterable[str | os.PathLike] = (),
    adversarial_paths: Iterable[str | os.PathLike] = (),
    workers: int = 1,
) -> dict[str, Any]:
    """Fit a profile from real samples, in two streaming passes.

    Pass one reads every file, assigns each sample to the reference or the
    calibration part by a hash of its id, adds the reference samples to the
    kind's mergeable sums (value counts on the 1/65535 grid and, for piano
    rolls, transitions and durations) and picks a bounded sample of ids.
    Pass two reads the files again and computes statistics for the picked
    samples only. Memory is bounded by the sums and the sample caps,
    whatever the number of files. Patches cut from one recording share the
    recording's id, so they land on one side of the split together.

    Parameters
    ----------
    sources : iterable of (id, Batch), optional
        In-memory samples instead of paths; it is iterated twice.
    kind : {"image", "pianoroll", "melspec"}
    paths : iterable of path-like
        Files and folders of real samples (folders recurse).
    files : iterable of (path, id), optional
        Files with the ids that decide their side of the split; ids must be
        unique and should not depend on where the files lie.
    representation : dict, optional
        Kind parameters (grid, mel settings); default: the kind's defaults.
    calibration_share : float in (0, 1)
        Share of samples held back to calibrate p-values.
    gan_paths, adversarial_paths : iterable of path-like, optional
        Labelled fakes that sharpen the profile. A logistic regression
        of real reference samples against them becomes a second score,
        calibrated on the same held-out real samples; with both kinds of
        fakes, a second regression labels flagged samples. Real data alone
        still decides the false-positive rate.
    workers : int
        Processes that read files and compute statistics, in groups of
        :data:`FILES_PER_TASK` files; the profile is the same for any number.

    Returns
    -------
    dict
        The profile document, ready for :func:`gandetect.profile.save_profile`.

    Raises
    ------
    InputError
        A file cannot be read, or samples differ in shape.
    UsageError
        Too few samples to fit, or an invalid option.
    """
    if not 0.0 < calibration_share < 1.0:
        raise UsageError(f"calibration share {calibration_share} is outside (0, 1)")
    sample_kind = get_kind(kind)
    read_options = read_options or ReadOptions()
    representation = {**sample_kind.default_representation(), **(representation or {})}
    if paths is not None or files is not None:
        if files is not None:
            file_list = [(os.fsdecode(path), file_id) for path, file_id in files]
            file_groups = lambda: _groups(file_list, FILES_PER_TASK)  # noqa: E731
        else:
            path_list = [os.fsdecode(path) for path in paths]
            # Walked again for each pass, so that no list of every file is kept.
            file_groups = lambda: _groups(iter_input_files(path_list, sample_kind.suffixes), FILES_PER_TASK)  # noqa: E731
            skipped: Counter = Counter()
            if sum(1 for _ in _walk(path_list, sample_kind.suffixes, skipped)) == 0:
                raise UsageError(f"no {kind} files found in {', '.join(path_list)}")
            if skipped:
                raise UsageError(
                    f"found {skipped_text(skipped)} of another kind than {kind} in {', '.join(path_list)}; "
                    "a profile is fitted on one kind, so move them out or name the files to fit"
                )
        reader = _FitReader(sample_kind, representation, read_options)
    elif sources is not None:
        source_list = list(sources)
        file_groups = lambda: [source_list]  # noqa: E731
        reader = _FitReader(sample_kind, representation, read_options, in_memory=True)
        workers = 1
    else:
        raise UsageError("fit_profile needs paths or sources")

    # Pass one: reference sums, sample picking, shape check.
    first = _FirstPassJob(reader, seed, calibration_share)
    accumulator = sample_kind.accumulator_for(representation)
    reference_pick = _BottomK(MAX_REFERENCE_SAMPLES)
    calibration_pick = _BottomK(MAX_CALIBRATION_SAMPLES)
    shape: tuple[int, int] | None = None
    n_files = n_reference = n_calibration = 0
    id_hash = hashlib.sha256()
    for part in run_tasks(first, file_groups(), workers):
        for path, found in part.shapes:
            shape = _check_shape(path, found, shape, sample_kind.columns_fixed)
        n_files += len(part.shapes)
        for sample_id in part.sample_ids:
            id_hash.update(sample_id.encode("utf-8", "surrogateescape") + b"\n")
        for key, sample_id in part.calibration:
            calibration_pick.add(key, sample_id)
        for key, sample_id in part.reference:
            reference_pick.add(key, sample_id)
        n_calibration += len(part.calibration)
        n_reference += len(part.reference)
        accumulator.merge(part.accumulator)

    if n_reference < 20 or n_calibration < 20:
        raise UsageError(
            f"fitting needs at least 20 reference and 20 calibration samples, found "
            f"{n_reference} and {n_calibration}; give more real samples"
        )
    reference_json = accumulator.to_json()
    context = sample_kind.context_for(reference_json, representation)

    # Pass two: statistics of the picked samples.
    second = _SecondPassJob(reader, context, reference_pick.selected(), calibration_pick.selected())
    reference_rows: list[np.ndarray] = []
    calibration_rows: list[np.ndarray] = []
    for part_reference, part_calibration in run_tasks(second, file_groups(), workers):
        reference_rows.extend(part_reference)
        calibration_rows.extend(part_calibration)
    reference_features = np.concatenate(reference_rows)
    calibration_features = np.concatenate(calibration_rows)

    standardiser = Standardiser.fit(reference_features)
    density = GaussianMixtureDensity.fit(standardiser.z_scores(reference_features), seed=seed)
    calibration_z = standardiser.z_scores(calibration_features)
    perturbation_columns = _perturbation_columns(sample_kind)
    calibration_scores = np.sort(density.negative_log_likelihood(calibration_z))
    calibration_perturbation = np.sort(perturbation_score(calibration_z, perturbation_columns))
    detector_extras, calibration_extras = _fit_supervised(
        sample_kind, context, standardiser, standardiser.z_scores(reference_features), calibration_z,
        gan_paths, adversarial_paths, read_options, representation, seed,
    )

    return {
        "format": PROFILE_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "created_by": f"gandetect {__version__}",
        "representation": {**representation, "sample_shape": list(shape)},
        "training": {
            "description": description,
            "n_files": n_files,
            "n_samples": n_reference + n_calibration,
            "n_reference": n_reference,
            "n_calibration": n_calibration,
            "n_reference_statistics": int(reference_features.shape[0]),
            "calibration_share": calibration_share,
            "seed": seed,
            "sample_ids_sha256": id_hash.hexdigest(),
        },
        "reference": reference_json,
        "detector": {
            "features": list(sample_kind.feature_names),
            "standardiser": standardiser.to_json(),
            "mixture": density.to_json(),
            "perturbation_features": list(sample_kind.perturbation_features),
            **detector_extras,
        },
        "calibration": {
            "scores": calibration_scores.tolist(),
            "perturbation_scores": calibration_perturbation.tolist(),
            **calibration_extras,
        },
    }


def _fit_supervised(
    kind: Kind,
    context: Context,
    standardiser: Standardiser,
    reference_z: np.ndarray,
    calibration_z: np.ndarray,
    gan_paths: Iterable[str | os.PathLike],
    adversarial_paths: Iterable[str | os.PathLike],
    read_options: ReadOptions,
    representation: dict[str, Any],
    seed: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the optional supervised score and labeller from labelled fakes."""
    labelled = {}
    for label, label_paths in (("gan", list(gan_paths)), ("adversarial", list(adversarial_paths))):
        if not label_paths:
            continue
        rows = []
        for path, _ in iter_input_files(label_paths, kind.suffixes):
            batch = kind.read(path, read_options, representation)
            rows.append(standardiser.z_scores(_features_chunked(kind, batch.values, context)))
        if not rows:
            raise UsageError(f"no {kind.name} files found in the --{label} paths")
        labelled[label] = np.concatenate(rows)
    if not labelled:
        return {}, {}

    fakes = np.concatenate(list(labelled.values()))
    supervised = LinearScore.fit(reference_z, fakes, seed=seed)
    detector = {"supervised": supervised.to_json(), "supervised_counts": {k: len(v) for k, v in labelled.items()}}
    if len(labelled) == 2:
        detector["labeller"] = LinearScore.fit(labelled["gan"], labelled["adversarial"], seed=seed).to_json()
    calibration = {"supervised_scores": np.sort(supervised.decision(calibration_z)).tolist()}
    return detector, calibration


def _perturbation_columns(kind: Kind) -> list[int]:
    return [kind.feature_names.index(name) for name in kind.perturbation_features]


def _sample_ids(file_id: str, batch: Batch) -> list[str]:
    if len(batch) == 1 and batch.sources[0] == batch.path:
        return [file_id]
    return [f"{file_id}[{i}]" for i in range(len(batch))]


def _check_shape(
    path: str, found: tuple[int, int], shape: tuple[int, int] | None, columns_fixed: bool
) -> tuple[int, int]:
    if shape is None:
        return found
    if found[0] != shape[0] or (columns_fixed and found[1] != shape[1]):
        raise InputError(
            f"{path}: samples are {found[0]}x{found[1]}, but earlier files were "
            f"{shape[0]}x{shape[1]}; a profile is fitted on samples of one shape"
        )
    return shape


class _FitReader:
    """Turns a group of ``(path, id)`` files, or of in-memory ``(id, Batch)`` pairs, into ``(id, Batch)``."""

    def __init__(self, kind: Kind, representation: dict[str, Any], read_options: ReadOptions, in_memory: bool = False) -> None:
        self.kind = kind
        self.representation = representation
        self.read_options = read_options
        self.in_memory = in_memory

    def batches(self, group: list[Any]) -> Iterator[tuple[str, Batch]]:
        if self.in_memory:
            yield from group
            return
        for path, file_id in group:
            yield file_id, self.kind.read(path, self.read_options, self.representation)


@dataclass
class _FirstPassPart:
    """Sums, shapes and candidate picks that pass one of fitting takes from one group of files."""

    accumulator: Any
    shapes: list[tuple[str, tuple[int, int]]] = field(default_factory=list)
    sample_ids: list[str] = field(default_factory=list)
    reference: list[tuple[float, str]] = field(default_factory=list)
    calibration: list[tuple[float, str]] = field(default_factory=list)


class _FirstPassJob:
    """Pass one over a group of files: split by id hash, reference sums, candidate picks."""

    def __init__(self, reader: _FitReader, seed: int, calibration_share: float) -> None:
        self.reader = reader
        self.seed = seed
        self.calibration_share = calibration_share

    def __call__(self, group: list[Any]) -> _FirstPassPart:
        kind = self.reader.kind
        part = _FirstPassPart(kind.accumulator_for(self.reader.representation))
        shape = None
        for file_id, batch in self.reader.batches(group):
            found = tuple(batch.values.shape[1:])
            shape = _check_shape(batch.path, found, shape, kind.columns_fixed)
            part.shapes.append((batch.path, found))
            rows, units = [], []
            for i, sample_id in enumerate(_sample_ids(file_id, batch)):
                part.sample_ids.append(sample_id)
                unit = file_id if batch.grouped else sample_id
                key = _split_key(unit, self.seed)
                if key < self.calibration_share:
                    part.calibration.append((key, sample_id))
                else:
                    part.reference.append((key, sample_id))
                    rows.append(i)
                    units.append(unit)
            if rows:
                part.accumulator.add_many(batch.values[rows], units)
        return part


class _SecondPassJob:
    """Pass two over a group of files: statistics of the picked reference and calibration samples."""

    def __init__(self, reader: _FitReader, context: Context, reference_ids: set[str], calibration_ids: set[str]) -> None:
        self.reader = reader
        self.context = context
        self.reference_ids = reference_ids
        self.calibration_ids = calibration_ids

    def __call__(self, group: list[Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        kind = self.reader.kind
        reference_context = self.context.for_reference_samples()
        rows: dict[str, list[np.ndarray]] = {"reference": [], "calibration": []}
        picked: dict[str, list[np.ndarray]] = {"reference": [], "calibration": []}
        counts = {"reference": 0, "calibration": 0}
        contexts = {"reference": reference_context, "calibration": self.context}
        picks = {"reference": self.reference_ids, "calibration": self.calibration_ids}

        def flush(part: str) -> None:
            rows[part].extend(_features_chunked(kind, run, contexts[part]) for run in _same_shape_runs(picked[part]))
            picked[part] = []
            counts[part] = 0

        for file_id, batch in self.reader.batches(group):
            ids = _sample_ids(file_id, batch)
            for part in ("reference", "calibration"):
                take = [i for i, sample_id in enumerate(ids) if sample_id in picks[part]]
                if not take:
                    continue
                # Indexing copies the picks, so the file's other samples are freed.
                # They go through the statistics about CHUNK at a time: one call for
                # many small files, and bounded memory for large ones.
                picked[part].append(batch.values[take])
                counts[part] += len(take)
                if counts[part] >= CHUNK:
                    flush(part)
        flush("reference")
        flush("calibration")
        return rows["reference"], rows["calibration"]


def _same_shape_runs(blocks: list[np.ndarray]) -> Iterator[np.ndarray]:
    """Join consecutive blocks of samples of one shape, in order."""
    start = 0
    for end in range(1, len(blocks) + 1 if blocks else 0):
        if end == len(blocks) or blocks[end].shape[1:] != blocks[start].shape[1:]:
            yield np.concatenate(blocks[start:end])
            start = end


def _features_chunked(kind: Kind, values: np.ndarray, context: Context) -> np.ndarray:
    parts = [kind.features(values[start : start + CHUNK], context) for start in range(0, len(values), CHUNK)]
    return np.concatenate(parts)


# ---------------------------------------------------------------- scoring


@dataclass
class Model:
    """A profile unpacked into the arrays that scoring uses."""

    profile: Profile
    kind: Kind
    context: Context
    representation: dict[str, Any]
    standardiser: Standardiser
    density: GaussianMixtureDensity
    calibration_scores: np.ndarray
    calibration_perturbation: np.ndarray
    sample_shape: tuple[int, int]
    supervised: LinearScore | None = None
    calibration_supervised: np.ndarray | None = None
    labeller: LinearScore | None = None

    @property
    def reference(self):
        """The reference value distribution (:class:`~gandetect.statistics.ValueReference`)."""
        return self.context.values

    @classmethod
    def from_profile(cls, profile: Profile) -> "Model":
        """Unpack and check a loaded profile.

        Raises
        ------
        ProfileError
            A field of the profile has the wrong shape or type, or its
            statistics differ from this version's.
        """
        document = profile.document
        kind = get_kind(document["kind"])
        try:
            representation = dict(document["representation"])
            context = kind.context_for(document["reference"], representation)
            detector = document["detector"]
            if list(detector["features"]) != list(kind.feature_names):
                raise ProfileError(
                    f"{profile.source}: profile statistics differ from this gandetect's; refit it"
                )
            standardiser = Standardiser.from_json(detector["standardiser"])
            density = GaussianMixtureDensity.from_json(detector["mixture"])
            n_features = len(kind.feature_names)
            if standardiser.quantiles.shape[0] != n_features:
                raise ValueError("detector.standardiser.quantiles has the wrong shape")
            if density.means.shape[1] != n_features:
                raise ValueError(f"detector.mixture must cover {n_features} statistics")
            scores = np.sort(np.asarray(document["calibration"]["scores"], dtype=np.float64))
            perturbation = np.sort(
                np.asarray(document["calibration"]["perturbation_scores"], dtype=np.float64)
            )
            if scores.ndim != 1 or scores.size == 0 or perturbation.shape != scores.shape:
                raise ValueError("calibration scores must be non-empty lists of one length")
            rows, columns = representation["sample_shape"]
            supervised = labeller = calibration_supervised = None
            if "supervised" in detector:
                supervised = LinearScore.from_json(detector["supervised"], n_features)
                calibration_supervised = np.sort(
                    np.asarray(document["calibration"]["supervised_scores"], dtype=np.float64)
                )
                if calibration_supervised.shape != scores.shape:
                    raise ValueError("calibration supervised_scores must match the calibration scores")
            if "labeller" in detector:
                labeller = LinearScore.from_json(detector["labeller"], n_features)
        except ProfileError:
            raise
        except KeyError as error:
            raise ProfileError(f"{profile.source}: profile lacks field {error.args[0]}; refit it") from None
        except (TypeError, ValueError) as error:
            raise ProfileError(f"{profile.source}: invalid profile content ({error}); refit it") from None
        return cls(
            profile=profile,
            kind=kind,
            context=context,
            representation=representation,
            standardiser=standardiser,
            density=density,
            calibration_scores=scores,
            calibration_perturbation=perturbation,
            sample_shape=(int(rows), int(columns)),
            supervised=supervised,
            calibration_supervised=calibration_supervised,
            labeller=labeller,
        )

    def read(self, path: str | os.PathLike, options: ReadOptions) -> Batch:
        """Read a file as this profile's kind and representation."""
        return self.kind.read(path, options, self.representation)


@dataclass(slots=True)
class Evidence:
    """One statistic of one sample, set against the reference."""

    statistic: str
    value: float | None
    z: float
    tail_share: float | None
    reference_median: float
    description: str

    def to_json(self) -> dict[str, Any]:
        """Return the evidence item as JSON, without its description (``gandetect inspect`` lists those)."""
        return {
            "statistic": self.statistic,
            "value": self.value,
            "z": round(self.z, 4),
            "tail_share": self.tail_share,
            "reference_median": self.reference_median,
        }


@dataclass(slots=True)
class SampleResult:
    """The verdict on one sample, or the error that stopped it from being scored.

    ``statistic`` is the raw score, ``p_value`` its calibrated tail share among
    held-out real samples, and ``verdict`` is ``real``, ``gan``,
    ``adversarial``, or None when ``error`` is set. ``unit`` is ``sample``
    (an image or a sample of a stack), ``patch`` (a part of a recording or
    piece) or ``file`` (a whole recording or piece, judged from its patches).
    """

    path: str
    kind: str = "image"
    unit: str = "sample"
    verdict: str | None = None
    p_value: float | None = None
    statistic: float | None = None
    perturbation_p_value: float | None = None
    evidence: list[Evidence] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def flagged(self) -> bool:
        return self.verdict in ("gan", "adversarial")

    @property
    def counted(self) -> bool:
        """True for results that summaries and exit codes count: samples and files, not patches."""
        return self.unit != "patch"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "result",
            "path": self.path,
            "kind": self.kind,
            "unit": self.unit,
            "verdict": self.verdict,
            "p_value": self.p_value,
            "statistic": self.statistic,
            "perturbation_p_value": self.perturbation_p_value,
            "evidence": [item.to_json() for item in self.evidence],
            "details": self.details,
            "notes": self.notes,
            "error": self.error,
        }


def score_batch(
    batch: Batch, model: Model, *, level: float = DEFAULT_LEVEL, evidence: int | None = None
) -> list[SampleResult]:
    """Score every sample of a batch against the model.

    For a batch of patches cut from one recording or piece, the patch
    results are followed by one ``file`` result: its p-value is the
    Bonferroni bound ``min(1, n * min_i p_i)`` over the ``n`` patches, which
    keeps the share of real files flagged at or below the level whatever
    the dependence between patches.

    Parameters
    ----------
    evidence : int, optional
        Keep this many evidence items per result, most extreme first;
        default: every statistic.

    Raises
    ------
    InputError
        The samples' shape differs from the profile's.
    """
    check_level(level)
    check_sample_shape(batch, model.sample_shape, model.kind.columns_fixed, model.profile.source)
    results = _score_values(
        model, batch.values, batch.sources, [batch.notes] * len(batch), level, evidence,
        offsets=[batch.column_offset(i) for i in range(len(batch))] if batch.grouped else None,
    )
    if batch.grouped:
        for result in results:
            result.unit = "patch"
        results.append(_file_result(batch, model, results, level))
    return results


def _score_values(
    model: Model,
    values: np.ndarray,
    sources: list[str],
    notes: list[list[str]],
    level: float,
    evidence: int | None,
    offsets: list[int] | None = None,
) -> list[SampleResult]:
    """Score samples in chunks of CHUNK; ``notes`` and ``offsets`` are per sample."""
    results: list[SampleResult] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        features = model.kind.features(chunk, model.context)
        chunk_results = _results_from_features(
            features, model, level, sources[start : start + CHUNK], notes[start : start + CHUNK], evidence
        )
        for i, (result, sample) in enumerate(zip(chunk_results, chunk), start=start):
            result.details = model.kind.details(sample, model.context, offsets[i] if offsets else 0)
        results.extend(chunk_results)
    return results


def _file_result(batch: Batch, model: Model, patches: list[SampleResult], level: float) -> SampleResult:
    n = len(patches)
    worst = min(range(n), key=lambda i: (patches[i].p_value, -patches[i].statistic))
    p_value = min(1.0, n * patches[worst].p_value)
    perturbation_p = min(1.0, n * min(patch.perturbation_p_value for patch in patches))
    if p_value >= level:
        verdict = "real"
    elif patches[worst].verdict == "adversarial" or (
        model.labeller is None and model.kind.perturbation_features and perturbation_p < level
    ):
        verdict = "adversarial"
    else:
        verdict = "gan"
    details = model.kind.file_details([patch.details for patch in patches])
    details.update(
        patches=n,
        flagged_patches=sum(patch.flagged for patch in patches),
        most_extreme_patch=worst,
    )
    return SampleResult(
        path=batch.path,
        kind=model.kind.name,
        unit="file",
        verdict=verdict,
        p_value=p_value,
        statistic=patches[worst].statistic,
        perturbation_p_value=perturbation_p,
        evidence=patches[worst].evidence,
        details=details,
        notes=list(batch.notes),
    )


def _results_from_features(
    features: np.ndarray,
    model: Model,
    level: float,
    sources: list[str],
    notes: list[list[str]],
    evidence: int | None,
) -> list[SampleResult]:
    z = model.standardiser.z_scores(features)
    scores = model.density.negative_log_likelihood(z)
    p_values = empirical_pvalue(scores, model.calibration_scores)
    if model.supervised is not None:
        # Two calibrated tests: the Bonferroni bound keeps the false-positive rate.
        supervised_p = empirical_pvalue(model.supervised.decision(z), model.calibration_supervised)
        p_values = np.minimum(1.0, 2.0 * np.minimum(p_values, supervised_p))
    columns = _perturbation_columns(model.kind)
    perturbation_p = empirical_pvalue(perturbation_score(z, columns), model.calibration_perturbation)
    labels = model.labeller.decision(z) if model.labeller is not None else None
    names = model.kind.feature_names
    tails = model.standardiser.tail_shares(features)

    # Plain Python lists: building 20-odd evidence items per sample from numpy
    # scalars costs more than computing the statistics.
    # Only the kept columns are converted, most extreme first.
    order = np.argsort(-np.abs(z), axis=1, kind="stable")[:, :evidence]
    orders = order.tolist()
    feature_rows = np.take_along_axis(features, order, axis=1).tolist()
    z_rows = np.take_along_axis(z, order, axis=1).tolist()
    tail_rows = np.take_along_axis(tails, order, axis=1).tolist()
    medians = model.standardiser.median.tolist()
    descriptions = [model.kind.descriptions[name] for name in names]

    results = []
    for i, source in enumerate(sources):
        if p_values[i] >= level:
            verdict = "real"
        elif labels is not None:
            verdict = "adversarial" if labels[i] > 0 else "gan"
        elif columns and perturbation_p[i] < level:
            verdict = "adversarial"
        else:
            verdict = "gan"
        items = [
            Evidence(
                statistic=names[j],
                value=None if value != value else value,
                z=score,
                tail_share=None if tail != tail else tail,
                reference_median=medians[j],
                description=descriptions[j],
            )
            for j, value, score, tail in zip(orders[i], feature_rows[i], z_rows[i], tail_rows[i])
        ]
        results.append(
            SampleResult(
                path=source,
                kind=model.kind.name,
                verdict=verdict,
                p_value=float(p_values[i]),
                statistic=float(scores[i]),
                perturbation_p_value=float(perturbation_p[i]),
                evidence=items,
                notes=list(notes[i]),
            )
        )
    return results


class ProfileChooser:
    """Picks the model for each file: one given profile, or the bundled profile of the file's kind.

    Parameters
    ----------
    profile_path : path-like, optional
        Profile for every file; its kind decides how files are read.
    kind : str, optional
        Kind for files whose extension does not decide it (images and
        arrays); default ``"image"``. MIDI files are piano rolls and audio
        files mel-spectrograms.
    """

    def __init__(self, profile_path: str | os.PathLike | None = None, kind: str | None = None) -> None:
        from gandetect.kinds import KINDS

        if kind is not None and kind not in KINDS:
            raise UsageError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        self.kind = kind
        self.fixed: Model | None = None
        self.models: dict[str, Model] = {}
        # Bundled profiles used, by kind, in order of first use, here or in worker processes.
        self.used: dict[str, str] = {}
        if profile_path is not None:
            from gandetect.profile import load_profile

            self.fixed = Model.from_profile(load_profile(profile_path))
            if kind is not None and kind != self.fixed.kind.name:
                raise UsageError(
                    f"--kind {kind} does not match the profile's kind {self.fixed.kind.name}; drop --kind"
                )

    @property
    def suffixes(self) -> frozenset[str]:
        """Extensions taken inside folders."""
        if self.fixed is not None:
            return self.fixed.kind.suffixes
        return ALL_SUFFIXES

    def for_path(self, path: str | os.PathLike) -> Model:
        """Return the model for one file, loading a bundled profile on first use."""
        from gandetect.kinds import kind_for_path
        from gandetect.profile import load_bundled_profile

        if self.fixed is not None:
            return self.fixed
        name = kind_for_path(path, default=self.kind or "image")
        if name not in self.models:
            self.models[name] = Model.from_profile(load_bundled_profile(name))
            self.used.setdefault(name, self.models[name].profile.source)
        return self.models[name]

    def mark_used(self, kind: str) -> None:
        """Record that a worker process scored a file of ``kind`` with its bundled profile."""
        from gandetect.profile import BUNDLED_PROFILES

        if self.fixed is None and kind in BUNDLED_PROFILES:
            self.used.setdefault(kind, f"bundled:{BUNDLED_PROFILES[kind]}")

    def for_set(self, path: str | os.PathLike) -> Model:
        """Return the model for a set: a file, or a folder judged by its first file."""
        if self.fixed is not None or not os.path.isdir(path):
            return self.for_path(path)
        for file_path, _ in iter_input_files([path], self.suffixes):
            return self.for_path(file_path)
        return self.for_path(path)

    def sources(self) -> list[str]:
        """Profiles used so far."""
        if self.fixed is not None:
            return [self.fixed.profile.source]
        return list(self.used.values())


def score_paths(
    paths: Iterable[str | os.PathLike],
    model: "Model | ProfileChooser",
    *,
    level: float = DEFAULT_LEVEL,
    read_options: ReadOptions | None = None,
    evidence: int | None = None,
    workers: int = 1,
) -> Iterator[SampleResult]:
    """Score every file under ``paths``, yielding results in file order as they are computed.

    ``model`` is one model for every file or a :class:`ProfileChooser`. A
    file that cannot be read or scored yields one result with ``error`` set,
    and the run goes on. Files are taken in groups of
    :data:`FILES_PER_TASK`; the small samples of a group (single images)
    are scored together in one vectorised call. With ``workers`` above 1 the
    groups go to that many processes and the results come back in the same
    order and with the same values as with one.

    NOTE: a file scored in a group and the same file scored alone can differ
    in the last bits of their statistics (numpy sums rows of different
    stacks in different orders); verdicts and p-values agree unless a score
    lies within rounding of a calibration score.

    Parameters
    ----------
    evidence : int, optional
        Evidence items kept per result, most extreme first; default: all.
    """
    for group in score_groups(paths, model, level=level, read_options=read_options, evidence=evidence, workers=workers):
        yield from group


def score_groups(
    paths: Iterable[str | os.PathLike],
    model: "Model | ProfileChooser",
    *,
    level: float = DEFAULT_LEVEL,
    read_options: ReadOptions | None = None,
    evidence: int | None = None,
    workers: int = 1,
    render: Callable[[SampleResult], str] | None = None,
) -> Iterator[list[Any]]:
    """Yield the results of :func:`score_paths` as one list per group of files, for writers that flush per group.

    With ``render`` (a picklable function), each result comes as a
    :class:`RenderedResult` whose text ``render`` made in the process that
    scored it, so that worker processes share the formatting too.
    """
    check_level(level)
    job = _ScoreJob(model, level, read_options or ReadOptions(), evidence, render)
    suffixes = model.suffixes if isinstance(model, ProfileChooser) else model.kind.suffixes
    skipped: Counter = Counter()
    # Ids are only needed for fitting, so the walk skips computing them.
    tasks = _groups((path for _, path in _walk(paths, suffixes, skipped)), FILES_PER_TASK)
    for task_results in run_tasks(job, tasks, workers, on_lost_worker=job.lost):
        if workers > 1 and isinstance(model, ProfileChooser):
            for result in task_results:
                model.mark_used(result.kind)
        yield task_results
    if skipped:
        import warnings

        warnings.warn(f"skipped {skipped_text(skipped)} that the profile's kind does not read", stacklevel=2)


@dataclass
class RenderedResult:
    """One result as a writer needs it: the fields that summaries count, and its formatted text."""

    kind: str
    counted: bool
    verdict: str | None
    error: str | None
    flagged: bool
    text: str


class _ScoreJob:
    """Scores one group of files; picklable, so that worker processes can run it."""

    def __init__(
        self,
        model: "Model | ProfileChooser",
        level: float,
        read_options: ReadOptions,
        evidence: int | None,
        render: Callable[[SampleResult], str] | None = None,
    ) -> None:
        self.model = model
        self.level = level
        self.read_options = read_options
        self.evidence = evidence
        self.render = render

    def __call__(self, files: list[str]) -> list[Any]:
        return self._rendered(self._score(files))

    def lost(self, files: list[str]) -> list[Any]:
        """Error results for a group whose worker process died."""
        return self._rendered(
            [
                SampleResult(
                    path=path,
                    kind=_kind_name(self.model, path),
                    unit=_error_unit(path),
                    error=f"{path}: the worker process scoring it stopped (out of memory?); rerun it with --workers 1",
                )
                for path in files
            ]
        )

    def _rendered(self, results: list[SampleResult]) -> list[Any]:
        if self.render is None:
            return results
        return [
            RenderedResult(result.kind, result.counted, result.verdict, result.error, result.flagged, self.render(result))
            for result in results
        ]

    def _score(self, files: list[str]) -> list[SampleResult]:
        results: list[SampleResult] = []
        pooled: list[tuple[Model, Batch]] = []
        n_pooled = 0
        for path in files:
            try:
                file_model = self.model.for_path(path) if isinstance(self.model, ProfileChooser) else self.model
                batch = file_model.read(path, self.read_options)
                check_sample_shape(batch, file_model.sample_shape, file_model.kind.columns_fixed, file_model.profile.source)
            except Exception as error:  # noqa: BLE001 - one file must not end a batch
                results.extend(self._score_pooled(pooled))
                pooled = []
                results.append(self._error_result(path, error, "reading"))
                continue
            if batch.grouped or len(batch) >= CHUNK:
                results.extend(self._score_pooled(pooled))
                pooled = []
                results.extend(self._score_one(file_model, batch))
                continue
            if pooled and (
                pooled[0][0] is not file_model or pooled[0][1].values.shape[1:] != batch.values.shape[1:]
            ):
                results.extend(self._score_pooled(pooled))
                pooled = []
            pooled.append((file_model, batch))
            n_pooled = len(batch) if len(pooled) == 1 else n_pooled + len(batch)
            if n_pooled >= CHUNK:
                results.extend(self._score_pooled(pooled))
                pooled = []
        results.extend(self._score_pooled(pooled))
        return results

    def _score_pooled(self, pooled: list[tuple[Model, Batch]]) -> list[SampleResult]:
        """Score the samples of several files in one call; on failure, file by file."""
        if len(pooled) <= 1:
            return [result for model, batch in pooled for result in self._score_one(model, batch)]
        model = pooled[0][0]
        try:
            return _score_values(
                model,
                np.concatenate([batch.values for _, batch in pooled]),
                [source for _, batch in pooled for source in batch.sources],
                [batch.notes for _, batch in pooled for _ in range(len(batch))],
                self.level,
                self.evidence,
            )
        except Exception:  # noqa: BLE001 - find which file fails and give it the error
            return [result for model, batch in pooled for result in self._score_one(model, batch)]

    def _score_one(self, model: Model, batch: Batch) -> list[SampleResult]:
        try:
            return score_batch(batch, model, level=self.level, evidence=self.evidence)
        except Exception as error:  # noqa: BLE001 - one file must not end a batch
            return [self._error_result(batch.path, error, "scoring")]

    def _error_result(self, path: str, error: BaseException, stage: str) -> SampleResult:
        kind = _kind_name(self.model, path)
        unit = _error_unit(path)
        if isinstance(error, GandetectError):
            return SampleResult(path=path, kind=kind, unit=unit, error=str(error))
        if isinstance(error, MemoryError):
            return SampleResult(
                path=path, kind=kind, unit=unit,
                error=f"{path}: out of memory while {stage}; split the file or lower --max-array-elements",
            )
        # A reader failing in a way gandetect does not know yet still gets a record.
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return SampleResult(
            path=path,
            kind=kind,
            unit=unit,
            error=f"{path}: unexpected {type(error).__name__} while {stage} ({message}); please report this file",
        )


def _error_unit(path: str) -> str:
    """Return the unit of an error record: a MIDI or audio file is judged as a whole file, so its error is one too."""
    return "file" if os.path.splitext(path)[1].lower() in WHOLE_FILE_SUFFIXES else "sample"


def _groups(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    group: list[Any] = []
    for item in items:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def default_workers() -> int:
    """Worker processes used by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_WORKER_JOB: Any = None


def _install_job(job: Any, parent: int) -> None:
    global _WORKER_JOB
    import signal

    # Ctrl-C reaches the whole process group; the parent decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)
    _WORKER_JOB = job


def _exit_with_parent(parent: int) -> None:
    """End this worker process when the parent process ends, even by SIGKILL.

    A killed parent cannot shut its workers down, and they would wait for
    work forever, holding the parent's stdout open.
    """
    import signal

    try:
        import ctypes

        # Linux: ask the kernel to send SIGKILL when the parent exits.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # 1 is PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:
        # The parent ended before the request took effect.
        os._exit(1)


def _run_installed_job(task: Any) -> Any:
    return _WORKER_JOB(task)


def run_tasks(
    job: Any, tasks: Iterable[Any], workers: int, *, on_lost_worker: Any = None
) -> Iterator[Any]:
    """Yield ``job(task)`` for every task, in task order, using ``workers`` processes.

    With one worker the tasks run here. With more, at most two tasks per
    worker are in flight, so results never pile up ahead of a slow reader.
    When a worker process dies, ``on_lost_worker(task)`` gives the result of
    each task in flight, if set; otherwise :class:`InputError` is raised.
    """
    task_iterator = iter(tasks)
    first = list(itertools.islice(task_iterator, 2))
    if workers <= 1 or len(first) < 2:
        # One task needs no worker process: starting one costs more than it saves.
        for task in itertools.chain(first, task_iterator):
            yield job(task)
        return

    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    methods = multiprocessing.get_all_start_methods()
    # fork shares the loaded profiles and imports with the workers at no cost.
    context = multiprocessing.get_context("fork" if "fork" in methods else methods[0])

    def new_executor() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_install_job, initargs=(job, os.getpid()))

    executor = new_executor()
    in_flight: deque = deque()
    try:
        task_iterator = itertools.chain(first, task_iterator)
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < 2 * workers:
                try:
                    task = next(task_iterator)
                except StopIteration:
                    exhausted = True
                    break
                in_flight.append((task, executor.submit(_run_installed_job, task)))
            if not in_flight:
                return
            task, future = in_flight.popleft()
            try:
                result = future.result()
            except BrokenProcessPool:
                if on_lost_worker is None:
                    raise InputError("a worker process stopped (out of memory?); rerun with --workers 1") from None
                lost = [task] + [pending for pending, _ in in_flight]
                in_flight.clear()
                executor.shutdown(wait=False, cancel_futures=True)
                executor = new_executor()
                for pending in lost:
                    yield on_lost_worker(pending)
                continue
            yield result
    finally:
        # Waiting for the tasks already running (a group of files each) lets the
        # workers exit cleanly, with no thread left running at interpreter exit.
        executor.shutdown(wait=True, cancel_futures=True)


def _kind_name(model: "Model | ProfileChooser", path: str) -> str:
    if isinstance(model, Model):
        return model.kind.name
    if model.fixed is not None:
        return model.fixed.kind.name
    from gandetect.kinds import kind_for_path

    return kind_for_path(path, default=model.kind or "image")


def check_level(level: float) -> None:
    """Raise UsageError unless ``level`` lies in (0, 1)."""
    if not 0.0 < level < 1.0:
        raise UsageError(f"level {level} is outside (0, 1); use for example 0.01")


# ---------------------------------------------------------------- compare


@dataclass
class PooledValues:
    """The pooled values of a set, as distinct values with counts.

    Attributes
    ----------
    values : np.ndarray of shape (k,), float64
        Distinct values in [0, 1], ascending.
    counts : np.ndarray of shape (k,), int64
        How many of the set's values equal each distinct value, at least 1.
    """

    values: np.ndarray
    counts: np.ndarray

    @property
    def total(self) -> int:
        """Number of values pooled."""
        return int(self.counts.sum())


@dataclass
class SetComparison:
    """One set's pooled values against the reference: a row of the KS/JSD table.

    ``pooled`` contains the set's values for plotting, and ``to_json`` leaves it out.
    """

    path: str
    n_files: int
    n_samples: int
    n_values: int
    ks_statistic: float | None
    p_value: float | None
    jsd: float | None
    errors: list[str]
    extras: dict[str, Any] = field(default_factory=dict)
    pooled: PooledValues | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extras,
            "path": self.path,
            "n_files": self.n_files,
            "n_samples": self.n_samples,
            "n_values": self.n_values,
            "ks_statistic": self.ks_statistic,
            "p_value": self.p_value,
            "jsd": self.jsd,
            "errors": self.errors,
        }


class SetPool:
    """Running sums of one set for :func:`compare_set`: distinct values with counts, and the kind's set summary.

    Callers that read the set's files for another purpose too (scoring,
    drawing) add each batch here, so every file is read once. Values are
    kept as distinct values with counts, so memory grows with the number of
    distinct values, not samples.
    """

    def __init__(self, path: str, model: Model) -> None:
        self.path = path
        self.model = model
        self.summary = model.kind.new_set_summary(model.context)
        self.errors: list[str] = []
        self.n_files = 0
        self.n_samples = 0
        self._distinct: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []

    def add(self, batch: Batch) -> None:
        """Add every sample of a batch read with the pool's model."""
        self.n_files += 1
        self.n_samples += len(batch)
        for sample in batch.values:
            self.summary.add(sample)
        values, value_counts = np.unique(batch.values, return_counts=True)
        self._distinct.append(values)
        self._counts.append(value_counts)
        if len(self._distinct) > 64:
            self._distinct, self._counts = _merge_counts(self._distinct, self._counts)

    def add_error(self, message: str) -> None:
        """Record a file of the set that could not be read."""
        self.errors.append(message)

    def pooled_values(self) -> PooledValues | None:
        """Return the set's values so far, or None before any sample was added."""
        if not self._distinct:
            return None
        self._distinct, self._counts = _merge_counts(self._distinct, self._counts)
        return PooledValues(self._distinct[0], self._counts[0])

    def comparison(self) -> SetComparison:
        """Compare the pooled values with the reference: KS statistic, its p-value, JSD and the kind's extras."""
        from gandetect.statistics import jensen_shannon, ks_statistic_counts, weighted_histogram

        pooled = self.pooled_values()
        if pooled is None:
            return SetComparison(self.path, self.n_files, 0, 0, None, None, None, list(self.errors))

        reference = self.model.reference
        n_values = pooled.total
        statistic = ks_statistic_counts(pooled.values, pooled.counts, reference)
        histogram = weighted_histogram(pooled.values, pooled.counts)
        jsd = float(jensen_shannon(histogram[np.newaxis], reference)[0])
        p_value = ks_pvalue(statistic, n_values, reference.total)
        return SetComparison(
            self.path, self.n_files, self.n_samples, n_values, statistic, p_value, jsd,
            list(self.errors), self.summary.to_json(), pooled,
        )


def compare_set(
    path: str | os.PathLike, model: Model, *, read_options: ReadOptions | None = None
) -> SetComparison:
    """Pool every value of the set under ``path`` and compare it with the reference.

    The KS statistic and p-value are those that ``scipy.stats.ks_2samp``
    gives for the pooled set values against the pooled reference values; the
    JSD uses 100 bins over [0, 1]. A file that cannot be read is listed in
    ``errors`` and the rest of the set is still compared.
    """
    read_options = read_options or ReadOptions()
    pool = SetPool(os.fsdecode(path), model)
    for file_path in set_files(pool.path, model.kind.suffixes):
        try:
            batch = model.read(file_path, read_options)
        except GandetectError as error:
            pool.add_error(str(error))
            continue
        pool.add(batch)
    return pool.comparison()


def _merge_counts(
    distinct: list[np.ndarray], counts: list[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    values = np.concatenate(distinct)
    weights = np.concatenate(counts)
    merged, inverse = np.unique(values, return_inverse=True)
    return [merged], [np.bincount(inverse, weights=weights).astype(np.int64)]


def describe_profile(model: Model) -> dict[str, Any]:
    """Summarise what a profile holds, for ``gandetect inspect``."""
    document = model.profile.document
    training = document["training"]
    reference = model.reference
    threshold_index = int(np.ceil((1.0 - DEFAULT_LEVEL) * (model.calibration_scores.size + 1))) - 1
    threshold_index = min(max(threshold_index, 0), model.calibration_scores.size - 1)
    return {
        "source": model.profile.source,
        "format": f"{document['format']} schema {document['schema_version']}",
        "kind": document["kind"],
        "created_by": document["created_by"],
        "description": training.get("description", ""),
        "sample_shape": "x".join(str(size) for size in model.sample_shape),
        "files": training["n_files"],
        "samples": training["n_samples"],
        "reference_samples": training["n_reference"],
        "calibration_samples": training["n_calibration"],
        "split_seed": training["seed"],
        "sample_ids_sha256": training["sample_ids_sha256"],
        "reference_values": reference.total,
        "distinct_reference_values": int(reference.levels.size),
        "share_exact_0": float(reference.counts[0] / reference.total) if reference.levels[0] == 0 else 0.0,
        "share_exact_1": float(reference.counts[-1] / reference.total) if reference.levels[-1] == VALUE_GRID else 0.0,
        "mean_value": float((reference.values * reference.counts).sum() / reference.total),
        "statistics": dict(model.kind.descriptions),
        "mixture_components": int(model.density.weights.size),
        "calibration_score_quantiles": {
            "50%": float(np.quantile(model.calibration_scores, 0.5)),
            "99%": float(np.quantile(model.calibration_scores, 0.99)),
            "max": float(model.calibration_scores[-1]),
        },
        f"flag_threshold_at_level_{DEFAULT_LEVEL}": float(model.calibration_scores[threshold_index]),
        "checksum": document["checksum"],
    }
