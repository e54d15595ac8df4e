"""A self-contained HTML report of sets against their profiles, and one file's evidence as a figure.

:func:`collect_set` reads each file of a set once and feeds the batch to the
comparison (:class:`~gandetect.engine.SetPool`), to scoring and to the
sample thumbnails. :func:`render_html` turns the collected evidence into
one HTML document. Its figures are base64 PNG ``data:`` URIs and its style
sheet is inline. It has no script and no external reference, so the file
can be mailed or archived as it is.
"""

from __future__ import annotations

import base64
import html
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from gandetect import __version__
from gandetect.engine import (
    Model,
    ProfileChooser,
    SampleResult,
    SetComparison,
    SetPool,
    iter_input_files,
    score_batch,
)
from gandetect.errors import GandetectError
from gandetect.kinds import MAX_LOCATED, ReadOptions
from gandetect.statistics import SPECTRAL_DESCRIPTIONS

# Thumbnails per set, in reading order.
THUMBNAILS_PER_SET = 16

# Thumbnails from one recording or piece, so that a folder of them shows several files.
THUMBNAILS_PER_GROUPED_FILE = 4

# Rows of the table of most frequent unseen chroma transitions.
TOP_TRANSITIONS = 10

# Statistics listed in a --explain figure, the most extreme first.
EXPLAINED_STATISTICS = 12

SECTION_HEADINGS = {
    "verdicts": "Verdicts",
    "comparison": "Comparison with the reference",
    "samples": "Samples",
    "values": "Value distribution",
    "moments": "Spectral centroid and slope moments",
    "durations": "Note durations",
    "violations": "Chroma-transition violations",
    "errors": "Errors",
}


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
    for file_path, _ in iter_input_files([path_text], model.kind.suffixes):
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


# ---------------------------------------------------------------- HTML


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 1.5rem auto; max-width: 1360px; padding: 0 1rem; color: #1b1b1b; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { margin-top: 1.4rem; }
.meta, .note { color: #555; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f2f2f2; }
td.text, th.text { text-align: left; word-break: break-all; }
img.plot { display: block; max-width: 100%; height: auto; margin: 0.4rem 0; }
.grid { display: flex; flex-wrap: wrap; gap: 0.6rem; }
figure.thumbnail { margin: 0; width: 142px; font-size: 0.75rem; }
figure.thumbnail img { display: block; border: 1px solid #999; max-width: 140px; }
figcaption { overflow-wrap: anywhere; }
.real { color: #1a7f37; } .gan { color: #c62828; } .adversarial { color: #8e24aa; } .error { color: #b26a00; }
code { font-size: 0.9em; }
"""


def render_html(report: Report) -> str:
    """Render the report as one HTML document with every figure embedded."""
    from gandetect import plots

    plots.require_matplotlib()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>gandetect report</title>',
        f"<style>{STYLE}</style></head>",
        "<body>",
        "<h1>gandetect report</h1>",
        f'<p class="meta">gandetect {_text(__version__)}; verdicts at level {report.level}; '
        f"profiles: {_text(', '.join(report.profiles) or '-')}</p>",
        _contents(report),
        _verdict_section(report),
        _comparison_section(report),
    ]
    for number, item in enumerate(report.sets, start=1):
        parts.append(_set_section(number, item))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


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

    write_atomically(path, render_html(report).encode("utf-8"))


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float | None, digits: str = ".4g") -> str:
    return "-" if value is None else format(value, digits)


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """Build a table whose cells are already escaped; the first ``text_columns`` columns align left."""
    def cells(tag: str, values: list[str]) -> str:
        return "".join(
            f'<{tag} class="text">{value}</{tag}>' if i < text_columns else f"<{tag}>{value}</{tag}>"
            for i, value in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def _image_tag(data: bytes, css_class: str, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img class="{css_class}" alt="{_text(alt)}" src="data:image/png;base64,{encoded}">'


def _figure_tag(figure, alt: str) -> str:
    from gandetect.plots import figure_bytes

    return _image_tag(figure_bytes(figure, "png"), "plot", alt)


def _reference_label(model: Model) -> str:
    return f"reference ({model.profile.source})"


def _contents(report: Report) -> str:
    links = [
        f'<li><a href="#verdicts">{SECTION_HEADINGS["verdicts"]}</a></li>',
        f'<li><a href="#comparison">{SECTION_HEADINGS["comparison"]}</a></li>',
    ]
    links += [f'<li><a href="#set-{number}">Set {number}: {_text(item.path)}</a></li>' for number, item in enumerate(report.sets, start=1)]
    return f"<ul>{''.join(links)}</ul>"


def _verdict_section(report: Report) -> str:
    rows = []
    for item in report.sets:
        counts = item.verdicts
        scored = counts["real"] + counts["gan"] + counts["adversarial"]
        flagged = counts["gan"] + counts["adversarial"]
        rows.append([
            _text(item.path), _text(item.model.profile.source), str(scored),
            f'<span class="real">{counts["real"]}</span>', f'<span class="gan">{counts["gan"]}</span>',
            f'<span class="adversarial">{counts["adversarial"]}</span>', f'<span class="error">{counts["error"]}</span>',
            _number(flagged / scored if scored else None, ".1%"),
        ])
    return (
        f'<h2 id="verdicts">{SECTION_HEADINGS["verdicts"]}</h2>'
        f'<p class="note">Each file scored as <code>gandetect score</code> scores it: every image and every '
        f"sample of a stack counts, and so does every whole MIDI or audio file (its patches do not). "
        f"A sample is flagged when its p-value is below {report.level}.</p>"
        + _table(["set", "profile", "scored", "real", "gan", "adversarial", "errors", "flagged"], rows, text_columns=2)
    )


def _comparison_section(report: Report) -> str:
    from gandetect.plots import ValueDistribution, value_figure

    parts = [
        f'<h2 id="comparison">{SECTION_HEADINGS["comparison"]}</h2>',
        '<p class="note">The table of <code>gandetect compare</code>: the pooled values of each set against '
        "the pooled reference values, with the KS statistic and p-value of <code>scipy.stats.ks_2samp</code> "
        "and the Jensen-Shannon divergence in bits over 100 equal bins.</p>",
    ]
    groups: dict[str, list[SetEvidence]] = {}
    for item in report.sets:
        groups.setdefault(item.model.profile.source, []).append(item)
    for source, members in groups.items():
        model = members[0].model
        rows = [[
            "reference (the profile's own data)", str(model.profile.document["training"]["n_reference"]),
            str(model.reference.total), "0", "1", "0",
        ]]
        for item in members:
            row = item.comparison
            rows.append([
                _text(row.path), str(row.n_samples), str(row.n_values), _number(row.ks_statistic, ".6f"),
                _number(row.p_value, ".3g"), _number(row.jsd, ".6f"),
            ])
        parts.append(f"<h3>Against {_text(source)}</h3>")
        parts.append(_table(["set", "samples", "values", "KS statistic", "p-value", "JSD"], rows))
        pooled = [item for item in members if item.comparison.pooled is not None]
        if len(pooled) >= 2:
            reference = model.reference
            figure = value_figure(
                ValueDistribution(_reference_label(model), reference.values, reference.counts),
                [ValueDistribution(item.path, item.comparison.pooled.values, item.comparison.pooled.counts) for item in pooled],
            )
            parts.append(_figure_tag(figure, f"value distributions of every set against {source}"))
    return "\n".join(parts)


def _set_section(number: int, item: SetEvidence) -> str:
    parts = [f'<h2 id="set-{number}">Set {number}: {_text(item.path)}</h2>']
    comparison = item.comparison
    parts.append(
        f'<p class="meta">{comparison.n_files} files, {comparison.n_samples} samples, against '
        f"{_text(item.model.profile.source)} (kind {item.model.kind.name})</p>"
    )
    if comparison.n_samples == 0:
        parts.append('<p class="error">No sample of this set could be read.</p>')
    else:
        parts.append(_samples_part(item))
        parts.append(_values_part(item))
        parts.append(_moments_part(item))
        if item.model.kind.name == "pianoroll":
            parts.append(_durations_part(item))
            parts.append(_violations_part(item))
    if item.errors:
        items = "".join(f"<li>{_text(message)}</li>" for message in item.errors)
        parts.append(f'<h3>{SECTION_HEADINGS["errors"]}</h3><ul class="error">{items}</ul>')
    return f"<section>{''.join(parts)}</section>"


def _samples_part(item: SetEvidence) -> str:
    from gandetect.plots import thumbnail_png

    kind = item.model.kind.name
    orientation = {
        "image": "as stored",
        "pianoroll": "lowest pitch at the bottom, notes dark",
        "melspec": "lowest mel band at the bottom",
    }[kind]
    figures = []
    for thumbnail in item.thumbnails:
        verdict = thumbnail.verdict or "error"
        figures.append(
            '<figure class="thumbnail">'
            + _image_tag(thumbnail_png(thumbnail.values, kind), "thumbnail", thumbnail.label)
            + f'<figcaption>{_text(thumbnail.label)}<br><span class="{verdict}">{verdict}</span>, '
            f"p {_number(thumbnail.p_value, '.3g')}</figcaption></figure>"
        )
    return (
        f'<h3>{SECTION_HEADINGS["samples"]}</h3>'
        f'<p class="note">{len(item.thumbnails)} samples in reading order, spread evenly over each '
        f"stack, at most {THUMBNAILS_PER_GROUPED_FILE} patches of each MIDI or audio file; {orientation}, "
        "each with its own verdict and p-value.</p>"
        f'<div class="grid">{"".join(figures)}</div>'
    )


def _values_part(item: SetEvidence) -> str:
    from gandetect.plots import ValueDistribution, value_figure

    reference = item.model.reference
    pooled = item.comparison.pooled
    comparison = item.comparison
    figure = value_figure(
        ValueDistribution(_reference_label(item.model), reference.values, reference.counts),
        [ValueDistribution(f"this set ({pooled.total} values)", pooled.values, pooled.counts)],
        title=f"KS statistic {_number(comparison.ks_statistic, '.4f')}, JSD {_number(comparison.jsd, '.4f')} bits",
    )
    return (
        f'<h3>{SECTION_HEADINGS["values"]}</h3>'
        '<p class="note">Histogram bins hold four 8-bit levels each, so 8-bit data shows no comb; '
        "the mid-range [0.11, 0.88] holds the 8-bit levels 29 to 224.</p>"
        + _figure_tag(figure, f"value distribution of {item.path} against the reference")
    )


def _moments_part(item: SetEvidence) -> str:
    from gandetect.plots import moments_figure

    model = item.model
    names = list(item.moments)
    if not names:
        return ""
    quantiles = {name: model.standardiser.quantiles[model.kind.feature_names.index(name)] for name in names}
    figure = moments_figure(quantiles, [("this set", item.moments)], reference_label=_reference_label(model))
    parts = [
        f'<h3>{SECTION_HEADINGS["moments"]}</h3>',
        '<p class="note">Each panel is the distribution over samples of one moment of the column spectral '
        "centroids or of their slopes over windows of 7 columns. The reference curve comes from the "
        "profile's stored quantiles; samples without a defined value (blank images, silent patches) are "
        "left out.</p>",
        _figure_tag(figure, f"spectral moments of {item.path} against the reference"),
    ]
    table = item.comparison.extras.get("moments")
    if table:
        header = ["statistic", "mean over samples", "standard deviation"]
        rows = [[name.replace("_", " "), _number(cells["mean"]), _number(cells["std"])] for name, cells in table.items()]
        parts.append(_table(header, rows))
    return "".join(parts)


def _durations_part(item: SetEvidence) -> str:
    from gandetect.plots import duration_figure

    model = item.model
    extras = item.comparison.extras
    figure = duration_figure(
        model.context.durations.histogram, [("this set", item.durations)], reference_label=_reference_label(model)
    )
    table = _table(
        ["set", "notes", "KS statistic", "p-value", "JSD"],
        [[
            _text(item.path), str(extras.get("n_notes", "-")), _number(extras.get("duration_ks_statistic"), ".6f"),
            _number(extras.get("duration_p_value"), ".3g"), _number(extras.get("duration_jsd"), ".6f"),
        ]],
    )
    return (
        f'<h3>{SECTION_HEADINGS["durations"]}</h3>'
        '<p class="note">Runs of on cells (above 0.5) per pitch row, against the reference pieces\' '
        "note durations; JSD in bits over 64 one-step bins.</p>"
        + _figure_tag(figure, f"note durations of {item.path} against the reference")
        + table
    )


def _violations_part(item: SetEvidence) -> str:
    extras = item.comparison.extras
    transitions = extras.get("transitions") or 0
    share = extras["violations"] / transitions if transitions else None
    table = _table(
        ["set", "violations", "transitions", "share"],
        [
            ["reference (the profile's own data)", "0", "-", "0"],
            [_text(item.path), str(extras.get("violations", "-")), str(transitions), _number(share, ".4f")],
        ],
    )
    parts = [
        f'<h3>{SECTION_HEADINGS["violations"]}</h3>',
        '<p class="note">Chroma-to-chroma transitions between consecutive steps that the reference pieces '
        "never use.</p>",
        table,
    ]
    if item.unseen_transitions:
        rows = [
            [_text(origin), _text(target), str(count)]
            for (origin, target), count in item.unseen_transitions.most_common(TOP_TRANSITIONS)
        ]
        parts.append(
            f'<p class="note">The most frequent of them, counted over the first {MAX_LOCATED} located in '
            "each sample or patch:</p>" + _table(["from", "to", "count"], rows, text_columns=2)
        )
    return "".join(parts)


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
            f"{file_results[0].path}: {file_results[0].verdict}, file p-value {file_results[0].p_value:.3g}; "
            f"patch {index} drawn, the most extreme"
        )
    else:
        index = min(range(len(samples)), key=lambda i: (samples[i].p_value, -samples[i].statistic))
        chosen = samples[index]
        title = f"{chosen.path}: {chosen.verdict}, p-value {chosen.p_value:.3g}"
        if len(samples) > 1:
            title += f"; the smallest p-value of {len(samples)} samples"

    batch = model.read(path, read_options or ReadOptions())
    evidence = samples[index].evidence[:EXPLAINED_STATISTICS]
    reference = model.reference
    return explanation_figure(
        sample=batch.values[index],
        kind=model.kind.name,
        title=title,
        reference=ValueDistribution(_reference_label(model), reference.values, reference.counts),
        statistics=[(item.statistic, item.value, item.z) for item in evidence],
        pitch_low=int(model.representation.get("pitch_low", 0)),
    )
