"""The evidence behind ``gandetect report`` and ``score --explain``, collected per set or per file.

:func:`collect_set` reads each file of a set once and feeds the batch to the
comparison (:class:`~gandetect.engine.SetPool`), to scoring and to the
sample thumbnails. :func:`write_report` renders the collected evidence as
one self-contained HTML document (see :mod:`gandetect.report_html`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from gandetect.engine import (
    Model,
    ProfileChooser,
    SampleResult,
    SetComparison,
    SetPool,
    score_batch,
    set_files,
)
from gandetect.errors import GandetectError
from gandetect.kinds import ReadOptions
from gandetect.statistics import SPECTRAL_DESCRIPTIONS


def p_value_text(value: float | None) -> str:
    """Format a p-value with 3 significant digits; the floor of extrapolated tails shows as ``< 1e-300``."""
    if value is None:
        return "-"
    return "< 1e-300" if value < 1e-300 else format(value, ".3g")

# Thumbnails per set, in reading order.
THUMBNAILS_PER_SET = 16

# Thumbnails from one recording or piece, so that a folder of them shows several files.
THUMBNAILS_PER_GROUPED_FILE = 4

# Rows of the table of most frequent unseen chroma transitions.
TOP_TRANSITIONS = 10

# Statistics listed in a --explain figure, the most extreme first.
EXPLAINED_STATISTICS = 12


@dataclass
class Thumbnail:
    """One sample shown in a set's grid, with its verdict.

    Attributes
    ----------
    label : str
        The sample's path relative to the set, with ``[i]`` for a sample of a stack or a patch.
    values : np.ndarray of shape (rows, columns), values in [0, 1]
    """

    label: str
    verdict: str | None
    p_value: float | None
    values: np.ndarray


@dataclass
class SetEvidence:
    """Everything the report shows about one set, gathered in one pass over its files.

    Attributes
    ----------
    comparison : SetComparison
        The row that ``gandetect compare`` prints for the set.
    verdicts : Counter
        Results per verdict (``real``, ``gan``, ``adversarial``) and ``error``,
        counted as ``gandetect score`` counts them: samples and whole files,
        not patches.
    errors : list of str
        One message per file that could not be read or scored.
    moments : dict of str to np.ndarray of shape (n,)
        Each spectral centroid and slope moment of every sample or patch,
        NaN where undefined.
    durations : np.ndarray of shape (notes,), int, or None
        Piano rolls: every note duration in steps.
    unseen_transitions : Counter, or None
        Piano rolls: ``(from, to)`` chroma pairs of the violations located
        in the results, at most ``MAX_LOCATED`` (20) per sample or patch.
    """

    path: str
    model: Model
    comparison: SetComparison
    verdicts: Counter
    errors: list[str]
    thumbnails: list[Thumbnail]
    moments: dict[str, np.ndarray]
    durations: np.ndarray | None = None
    unseen_transitions: Counter | None = None


@dataclass
class Report:
    """The collected evidence of every set, with the level used for verdicts."""

    sets: list[SetEvidence]
    level: float
    profiles: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when a file could not be read or scored, or a set has no sample."""
        return any(item.errors or item.comparison.n_samples == 0 for item in self.sets)


def collect_set(
    path: str | os.PathLike,
    model: Model,
    *,
    level: float,
    read_options: ReadOptions | None = None,
) -> SetEvidence:
    """Read every file of a set once, and compare, score and sample it.

    The comparison is the one :func:`~gandetect.engine.compare_set` returns,
    so it also covers samples whose shape the profile cannot score. A file
    that cannot be read or scored is counted as an error and listed, and the
    rest of the set goes on.
    """
    read_options = read_options or ReadOptions()
    path_text = os.fsdecode(path)
    label_root = path_text if os.path.isdir(path_text) else os.path.dirname(path_text)
    moment_names = [name for name in SPECTRAL_DESCRIPTIONS if name in model.kind.feature_names]

    pool = SetPool(path_text, model)
    verdicts: Counter = Counter()
    errors: list[str] = []
    thumbnails: list[Thumbnail] = []
    moments: dict[str, list[float]] = {name: [] for name in moment_names}
    unseen: Counter | None = Counter() if model.kind.name == "pianoroll" else None
    for file_path in set_files(path_text, model.kind.suffixes):
        try:
            batch = model.read(file_path, read_options)
        except GandetectError as error:
            pool.add_error(str(error))
            errors.append(str(error))
            verdicts["error"] += 1
            continue
        pool.add(batch)
        try:
            results = score_batch(batch, model, level=level)
        except GandetectError as error:
            errors.append(str(error))
            verdicts["error"] += 1
            continue

        sample_results = [result for result in results if result.unit != "file"]
        for result in results:
            if result.counted:
                verdicts[result.verdict] += 1
        for result in sample_results:
            values = {item.statistic: item.value for item in result.evidence}
            for name in moment_names:
                value = values.get(name)
                moments[name].append(np.nan if value is None else value)
            if unseen is not None:
                unseen.update((item["from"], item["to"]) for item in result.details.get("first_violations", []))

        room = THUMBNAILS_PER_SET - len(thumbnails)
        if batch.grouped:
            room = min(room, THUMBNAILS_PER_GROUPED_FILE)
        for index in _spread(len(sample_results), room):
            result = sample_results[index]
            # A copy, so that the thumbnail does not keep the whole stack in memory.
            sample = batch.values[index].copy()
            thumbnails.append(Thumbnail(_relative(result.path, label_root), result.verdict, result.p_value, sample))

    comparison = pool.comparison()
    durations = pool.summary.pooled_durations() if model.kind.name == "pianoroll" else None
    return SetEvidence(
        path=path_text,
        model=model,
        comparison=comparison,
        verdicts=verdicts,
        errors=errors,
        thumbnails=thumbnails,
        moments={name: np.asarray(values, dtype=np.float64) for name, values in moments.items()},
        durations=durations,
        unseen_transitions=unseen,
    )


def _spread(size: int, count: int) -> list[int]:
    """Return up to ``count`` distinct indices into ``range(size)``, evenly spaced from the first."""
    if count <= 0 or size == 0:
        return []
    if count >= size:
        return list(range(size))
    return [int(index) for index in np.linspace(0, size - 1, count).round()]


def _relative(source: str, root: str) -> str:
    if not root:
        return source
    relative = os.path.relpath(source, root)
    return source if relative.startswith("..") else relative


def build_report(
    paths: Iterable[str | os.PathLike],
    chooser: ProfileChooser,
    *,
    level: float,
    read_options: ReadOptions | None = None,
) -> Report:
    """Collect the evidence of each path, a file or a folder being one set, against the chooser's profile for it.

    Raises
    ------
    UsageError
        ``level`` is outside (0, 1).
    """
    from gandetect.errors import UsageError

    if not 0.0 < level < 1.0:
        raise UsageError(f"level {level} is outside (0, 1); use for example 0.01")
    sets = [
        collect_set(path, chooser.for_set(path), level=level, read_options=read_options)
        for path in paths
    ]
    return Report(sets=sets, level=level, profiles=chooser.sources())


def reference_label(model: Model) -> str:
    """Return the legend label of a profile's reference, such as ``reference (bundled:mnist.json)``."""
    return f"reference ({model.profile.source})"


def write_report(report: Report, path: str | os.PathLike) -> None:
    """Render the report and write it atomically to ``path``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    OSError
        The file cannot be written.
    """
    from gandetect.files import write_atomically
    from gandetect.report_html import render_html

    write_atomically(path, render_html(report).encode("utf-8"))


# ---------------------------------------------------------------- one file


def explain_file(
    path: str | os.PathLike,
    model: Model,
    results: list[SampleResult],
    *,
    read_options: ReadOptions | None = None,
):
    """Draw the evidence behind one file's verdict.

    The figure shows the sample that decided the verdict: the only sample
    of a single image, the most extreme patch of a MIDI or audio file, or
    the sample with the smallest p-value of a stack. The file is read again
    to get the sample's values; ``results`` are its results from scoring.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        The file cannot be read.
    UsageError
        ``results`` hold no scored sample.
    """
    from gandetect.errors import UsageError
    from gandetect.plots import ValueDistribution, explanation_figure, require_matplotlib

    require_matplotlib()
    scored = [result for result in results if result.error is None]
    samples = [result for result in scored if result.unit != "file"]
    if not samples:
        raise UsageError(f"{os.fsdecode(path)}: could not be scored, so there is no evidence to draw")

    file_results = [result for result in scored if result.unit == "file"]
    if file_results:
        index = file_results[0].details["most_extreme_patch"]
        title = (
            f"{file_results[0].path}: {file_results[0].verdict}, file p-value {p_value_text(file_results[0].p_value)}; "
            f"patch {index} drawn, the most extreme"
        )
    else:
        index = min(range(len(samples)), key=lambda i: (samples[i].p_value, -samples[i].statistic))
        chosen = samples[index]
        title = f"{chosen.path}: {chosen.verdict}, p-value {p_value_text(chosen.p_value)}"
        if len(samples) > 1:
            title += f"; the smallest p-value of {len(samples)} samples"

    batch = model.read(path, read_options or ReadOptions())
    evidence = samples[index].evidence[:EXPLAINED_STATISTICS]
    reference = model.reference
    return explanation_figure(
        sample=batch.values[index],
        kind=model.kind.name,
        title=title,
        reference=ValueDistribution(reference_label(model), reference.values, reference.counts),
        statistics=[(item.statistic, item.value, item.z) for item in evidence],
        pitch_low=int(model.representation.get("pitch_low", 0)),
    )
