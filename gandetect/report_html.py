"""The HTML of ``gandetect report``: one document with every figure embedded.

Figures are base64 PNG ``data:`` URIs and the style sheet is inline. The
document has no script and no external reference, so the file can be mailed
or archived as it is. Every path and message is HTML-escaped.
"""

from __future__ import annotations

import base64
import html

from gandetect import __version__
from gandetect.kinds import MAX_LOCATED
from gandetect.report import (
    THUMBNAILS_PER_GROUPED_FILE,
    TOP_TRANSITIONS,
    Report,
    SetEvidence,
    p_value_text,
    reference_label,
)

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


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _number(value: float | None, digits: str = ".4g") -> str:
    return "-" if value is None else format(value, digits)


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """Build a table from cells that are already escaped, with the first ``text_columns`` columns aligned left."""
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
                ValueDistribution(reference_label(model), reference.values, reference.counts),
                [ValueDistribution(item.path, item.comparison.pooled.values, item.comparison.pooled.counts) for item in pooled],
            )
            parts.append(_figure_tag(figure, f"value distributions of every set against {source}"))
    return "\n".join(parts)


def _set_section(number: int, item: SetEvidence) -> str:
    parts = [f'<h2 id="set-{number}">Set {number}: {_text(item.path)}</h2>']
    comparison = item.comparison
    parts.append(
        f'<p class="meta">{_count(comparison.n_files, "file")}, {_count(comparison.n_samples, "sample")}, against '
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
            f"p {p_value_text(thumbnail.p_value)}</figcaption></figure>"
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
        ValueDistribution(reference_label(item.model), reference.values, reference.counts),
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
    figure = moments_figure(quantiles, [("this set", item.moments)], reference_label=reference_label(model))
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
        model.context.durations.histogram, [("this set", item.durations)], reference_label=reference_label(model)
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
