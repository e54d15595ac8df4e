"""Figures of gandetect's evidence: value distributions, spectral moments, note durations, one sample.

Every figure function takes plain arrays and returns a matplotlib ``Figure``
on the Agg canvas. The figures are made without pyplot, so drawing neither
switches the caller's backend nor keeps figures alive after the caller drops
them. matplotlib is an optional extra (``pip install 'gandetect[plot]'``)
imported inside the functions, which raise :class:`MissingDependencyError`
without it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gandetect.errors import MissingDependencyError, UsageError
from gandetect.statistics import MID_RANGE

MATPLOTLIB_MISSING = "plots need matplotlib; install it with pip install 'gandetect[plot]'"

# Screen resolution: figures are embedded at their natural size.
DPI = 100

FIGURE_FORMATS = {".png": "png", ".svg": "svg"}

REFERENCE_COLOUR = "black"

# Points of the uniform grid that ECDFs are drawn on. The grid is finer
# than the pixels of a panel, so the drawing is the exact ECDF to within a pixel.
ECDF_GRID_POINTS = 4096

# Upper end of the enlarged ECDF panel: about ten 8-bit levels above 0.
ECDF_ZOOM = 0.04

# Smallest range of shares on the enlarged panel's y axis.
ZOOM_MIN_SPAN = 0.1

# Histogram bins of four 8-bit levels each. Every bin then contains as
# many 8-bit levels (and 16-bit levels) as the next, so 8-bit data does
# not show the comb of alternately fuller and emptier bins that 100 equal
# bins over 256 levels give.
FULL_RANGE_EDGES = (4 * np.arange(65) - 0.5) / 255

# The mid-range [0.11, 0.88] contains exactly the 8-bit levels 29 to 224.
MID_RANGE_EDGES = (29 + 4 * np.arange(50) - 0.5) / 255

# Longer side of a sample thumbnail, in pixels, before the nearest-neighbour enlargement stops.
THUMBNAIL_PIXELS = 128

# Normal scores beyond this are drawn at the edge of the evidence panel.
Z_DISPLAY_LIMIT = 8.0

# Central shares of a standard normal, their two-sided z bounds and the
# band colours, widest and lightest first. Opaque colours keep the legend
# swatches the same as the bands.
CENTRAL_BANDS = ((0.99, 2.576, "#e5f5e0"), (0.90, 1.645, "#c7e9c0"), (0.50, 0.674, "#a1d99b"))


@dataclass
class ValueDistribution:
    """The pooled values of one set, or of the reference, with its legend label.

    Attributes
    ----------
    label : str
    values : np.ndarray of shape (k,), float64
        Distinct values in [0, 1], ascending.
    counts : np.ndarray of shape (k,), int
        How many pooled values equal each distinct value, at least 1.
    """

    label: str
    values: np.ndarray
    counts: np.ndarray


def require_matplotlib() -> None:
    """Raise MissingDependencyError unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError(MATPLOTLIB_MISSING) from None


def figure_format(path: str | os.PathLike) -> str:
    """Return the matplotlib format for a figure file name: ``png`` or ``svg``.

    Raises
    ------
    UsageError
        The name ends in another extension.
    """
    suffix = os.path.splitext(os.fsdecode(path))[1].lower()
    if suffix not in FIGURE_FORMATS:
        raise UsageError(f"invalid figure file name {os.fsdecode(path)!r}; end it in .png or .svg")
    return FIGURE_FORMATS[suffix]


def figure_bytes(figure, image_format: str = "png") -> bytes:
    """Render a figure as PNG or SVG bytes.

    The SVG leaves out its creation date, so the same data gives the same file.
    """
    buffer = io.BytesIO()
    metadata = {"Date": None} if image_format == "svg" else None
    figure.savefig(buffer, format=image_format, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def save_figure(figure, path: str | os.PathLike) -> None:
    """Write a figure atomically as PNG or SVG, chosen by the extension of ``path``.

    Raises
    ------
    UsageError
        The extension is neither ``.png`` nor ``.svg``.
    OSError
        The file cannot be written.
    """
    from gandetect.files import write_atomically

    write_atomically(path, figure_bytes(figure, figure_format(path)))


def new_figure(width: float, height: float):
    """Return an empty Figure of ``width`` x ``height`` inches on the Agg canvas, laid out by constrained layout."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _set_colours(count: int) -> list[str]:
    return [f"C{i % 10}" for i in range(count)]


def _set_line_styles(count: int) -> list[str]:
    # Sets of the same samples in two encodings overlap; dashes keep the lower curve visible.
    styles = ("solid", "dashed", "dashdot", "dotted")
    return [styles[i % len(styles)] for i in range(count)]


def cdf_on_grid(values: np.ndarray, counts: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Right-continuous empirical CDF of values with counts, evaluated at ``grid``.

    Parameters
    ----------
    values : np.ndarray of shape (k,), ascending
    counts : np.ndarray of shape (k,), non-negative
    grid : np.ndarray of shape (g,)

    Returns
    -------
    np.ndarray of shape (g,)
        Share of the total count at values <= each grid point, in [0, 1].
    """
    cumulative = np.concatenate([[0.0], np.cumsum(counts, dtype=np.float64)])
    return cumulative[np.searchsorted(values, grid, side="right")] / cumulative[-1]


def binned_shares(values: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of the total count in each bin ``[edges[i], edges[i + 1])``, shape (len(edges) - 1,).

    Values outside the edges count towards the total but fall in no bin, so
    the shares of a partial range, such as the mid-range, sum to less than 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    binned, _ = np.histogram(values, bins=edges, weights=counts)
    return binned / counts.sum()


def value_figure(reference: ValueDistribution, sets: Sequence[ValueDistribution], *, title: str | None = None):
    """Draw the empirical CDF and the histograms over [0, 1] and over the mid-range, reference against sets.

    Four panels. Above, the ECDF over [0, 1] and enlarged over [0, 0.04],
    where exact zeros and the faint values of generators part. Both are
    drawn on a grid finer than the panel's pixels. Below are histograms in
    bins of four 8-bit levels, giving each bin's share of all values. The
    one over [0, 1] has a log scale, because the modes 0 and 1 hold most of
    the mass, and the one over the mid-range [0.11, 0.88] a linear one.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = new_figure(12.0, 8.0)
    (ecdf_axes, zoom_axes), (full_axes, mid_axes) = figure.subplots(2, 2)
    curves = [(reference, REFERENCE_COLOUR, 1.8, "solid")] + [
        (distribution, colour, 1.2, style)
        for distribution, colour, style in zip(sets, _set_colours(len(sets)), _set_line_styles(len(sets)))
    ]

    # The grid starts left of 0, so that an exact mass at 0 shows as a vertical jump.
    grid = np.concatenate([[-0.02], np.linspace(0.0, 1.0, ECDF_GRID_POINTS + 1)])
    zoom_grid = np.concatenate([[-0.001], np.linspace(0.0, ECDF_ZOOM, 1025)])
    full_shares = [binned_shares(item.values, item.counts, FULL_RANGE_EDGES) for item, *_ in curves]
    positive = np.concatenate([shares[shares > 0] for shares in full_shares])
    floor = positive.min() / 2 if positive.size else 1e-6
    zoom_low, zoom_high = 1.0, 0.0
    for (item, colour, width, style), shares in zip(curves, full_shares):
        line = {"color": colour, "linewidth": width, "linestyle": style}
        ecdf_axes.step(grid, cdf_on_grid(item.values, item.counts, grid), where="post", label=item.label, **line)
        zoom_cdf = cdf_on_grid(item.values, item.counts, zoom_grid)
        zoom_axes.step(zoom_grid, zoom_cdf, where="post", **line)
        zoom_low, zoom_high = min(zoom_low, zoom_cdf[1]), max(zoom_high, zoom_cdf[-1])
        full_axes.stairs(np.maximum(shares, floor), FULL_RANGE_EDGES, baseline=None, **line)
        mid_shares = binned_shares(item.values, item.counts, MID_RANGE_EDGES)
        mid_axes.stairs(mid_shares, MID_RANGE_EDGES, baseline=None, **line)

    ecdf_axes.set(title="Empirical CDF of values", xlabel="value", ylabel="share of values ≤ value", xlim=(-0.02, 1.02), ylim=(0.0, 1.01))
    # The enlarged panel spans the shares between the curves' values at 0 and
    # at its right end, and at least 0.1, so that tiny gaps do not look large.
    margin = max(0.05 * (zoom_high - zoom_low), (ZOOM_MIN_SPAN - (zoom_high - zoom_low)) / 2)
    zoom_axes.set(
        title=f"Empirical CDF of values in [0, {ECDF_ZOOM}]", xlabel="value", ylabel="share of values ≤ value",
        xlim=(-0.001, ECDF_ZOOM), ylim=(max(zoom_low - margin, 0.0), min(zoom_high + margin, 1.01)),
    )
    full_axes.set(title="Histogram over [0, 1], log scale", xlabel="value", ylabel="share of all values per bin", xlim=(-0.02, 1.02), yscale="log")
    full_axes.set_ylim(bottom=floor)
    mid_axes.set(
        title=f"Histogram over the mid-range [{MID_RANGE[0]}, {MID_RANGE[1]}]",
        xlabel="value", ylabel="share of all values per bin", xlim=MID_RANGE,
    )
    mid_axes.set_ylim(bottom=0.0)
    for axes in (ecdf_axes, zoom_axes, full_axes, mid_axes):
        axes.grid(alpha=0.3)
    handles, labels = ecdf_axes.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def moments_figure(
    reference_quantiles: Mapping[str, np.ndarray],
    sets: Sequence[tuple[str, Mapping[str, np.ndarray]]],
    *,
    reference_label: str,
    title: str | None = None,
):
    """Draw the distribution of each spectral centroid and slope moment over samples, as CDFs.

    One panel per statistic, in the order of ``reference_quantiles``. The
    reference is drawn from its stored quantile grid and each set as the
    ECDF of its samples' values. NaN values (blank samples, silent patches)
    are left out. Each x axis spans the central 99% of the reference and
    98% of every set, so that one extreme kurtosis does not squash the rest.

    Parameters
    ----------
    reference_quantiles : mapping of str to np.ndarray of shape (q,)
        Reference quantiles of each statistic at equally spaced levels from 0 to 1.
    sets : sequence of (label, mapping of str to np.ndarray of shape (n,))
        Each set's per-sample values of the same statistics.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(reference_quantiles)
    columns = 4
    rows = max(1, -(-len(names) // columns))
    figure = new_figure(13.0, 2.7 * rows + 0.6)
    grid = figure.subplots(rows, columns, squeeze=False)
    colours = _set_colours(len(sets))

    for index, name in enumerate(names):
        axes = grid[index // columns][index % columns]
        quantiles = np.asarray(reference_quantiles[name], dtype=np.float64)
        levels = np.linspace(0.0, 1.0, quantiles.size)
        axes.plot(quantiles, levels, color=REFERENCE_COLOUR, linewidth=1.8, label=reference_label)
        low, high = np.interp([0.005, 0.995], levels, quantiles)
        for (label, statistics), colour in zip(sets, colours):
            values = np.sort(np.asarray(statistics.get(name, []), dtype=np.float64))
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            shares = np.arange(1, values.size + 1) / values.size
            axes.step(np.concatenate([[values[0]], values]), np.concatenate([[0.0], shares]), where="post", color=colour, linewidth=1.2, label=label)
            set_low, set_high = np.quantile(values, [0.01, 0.99])
            low, high = min(low, set_low), max(high, set_high)
        margin = 0.05 * (high - low) if high > low else max(abs(low), 1.0) * 0.05
        axes.set_xlim(low - margin, high + margin)
        axes.set_ylim(0.0, 1.01)
        axes.set_title(name.replace("_", " "))
        axes.grid(alpha=0.3)
        if index % columns == 0:
            axes.set_ylabel("share of samples ≤ x")
        axes.set_xlabel(_moment_unit(name))
    for index in range(len(names), rows * columns):
        grid[index // columns][index % columns].set_visible(False)

    handles, labels = grid[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 4), fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def _moment_unit(name: str) -> str:
    if name.endswith(("skew", "kurtosis")):
        return "no unit"
    if name.startswith("slope"):
        return "rows per column"
    return "row index"


def duration_figure(
    reference_shares: np.ndarray,
    sets: Sequence[tuple[str, np.ndarray]],
    *,
    reference_label: str,
    title: str | None = None,
):
    """Draw the note-duration histograms of the reference and of each set.

    Parameters
    ----------
    reference_shares : np.ndarray of shape (b,)
        Share of reference notes lasting 1, 2, ..., b steps, the last bin
        holding b steps and longer.
    sets : sequence of (label, np.ndarray of shape (notes,), int steps >= 1)
        Each set's note durations, binned here like the reference.

    Returns
    -------
    matplotlib.figure.Figure
    """
    reference_shares = np.asarray(reference_shares, dtype=np.float64)
    bins = reference_shares.size
    edges = np.arange(bins + 1) + 0.5
    figure = new_figure(13.0, 3.6)
    axes = figure.subplots()
    axes.stairs(reference_shares, edges, color=REFERENCE_COLOUR, linewidth=1.8, label=reference_label)
    drawn = []
    for (label, durations), colour in zip(sets, _set_colours(len(sets))):
        durations = np.asarray(durations, dtype=np.int64)
        if durations.size == 0:
            continue
        counts = np.bincount(np.minimum(durations, bins) - 1, minlength=bins)
        drawn.append(counts)
        axes.stairs(counts / counts.sum(), edges, color=colour, linewidth=1.2, label=f"{label} ({durations.size} notes)")
    # Long notes are rare, so the axis ends where every curve has covered
    # 99.9% of its notes, at 16 steps or more.
    covered = [np.searchsorted(np.cumsum(shares) / shares.sum(), 0.999) + 2 for shares in [reference_shares, *drawn] if shares.sum() > 0]
    last = min(max([16, *covered]), bins)
    longest = f" (the last bin counts {bins} and longer)" if last == bins else ""
    axes.set(
        title=title or "Note durations",
        xlabel=f"note duration in 16th-note steps{longest}",
        ylabel="share of notes", xlim=(0.5, last + 0.5),
    )
    axes.set_ylim(bottom=0.0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def explanation_figure(
    *,
    sample: np.ndarray,
    kind: str,
    title: str,
    reference: ValueDistribution,
    statistics: Sequence[tuple[str, float | None, float]],
    pitch_low: int = 0,
):
    """Draw one sample's evidence: the sample, its value histogram over the reference's, its statistics' normal scores.

    Parameters
    ----------
    sample : np.ndarray of shape (rows, columns), values in [0, 1]
        For piano rolls and mel-spectrograms row 0 is the lowest pitch or
        band and is drawn at the bottom.
    kind : {"image", "pianoroll", "melspec"}
    statistics : sequence of (name, value or None, z)
        The statistics to show, top to bottom, with each one's normal score
        against the real reference samples. Scores beyond +-8 are drawn at
        the edge with their value written next to them.
    pitch_low : int
        MIDI pitch of row 0 of a piano roll.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sample = np.asarray(sample, dtype=np.float64)
    height = max(4.2, 0.32 * len(statistics) + 1.4)
    figure = new_figure(14.0, height)
    sample_axes, histogram_axes, evidence_axes = figure.subplots(1, 3, width_ratios=[1.0, 1.3, 1.7])

    _draw_sample(sample_axes, sample, kind, pitch_low)

    own = ValueDistribution("this sample", *np.unique(sample, return_counts=True))
    shares = [binned_shares(item.values, item.counts, FULL_RANGE_EDGES) for item in (reference, own)]
    positive = np.concatenate([row[row > 0] for row in shares])
    floor = positive.min() / 2 if positive.size else 1e-6
    for item, row, colour, width in zip((reference, own), shares, (REFERENCE_COLOUR, "C3"), (1.8, 1.2)):
        histogram_axes.stairs(np.maximum(row, floor), FULL_RANGE_EDGES, color=colour, linewidth=width, baseline=None, label=item.label)
    histogram_axes.set(
        title="Value histogram, log scale", xlabel="value", ylabel="share of values per bin",
        xlim=(-0.02, 1.02), yscale="log",
    )
    histogram_axes.set_ylim(bottom=floor)
    histogram_axes.grid(alpha=0.3)
    histogram_axes.legend(fontsize="small", loc="upper center")

    _draw_evidence(evidence_axes, statistics)
    figure.suptitle(title)
    return figure


def _draw_sample(axes, sample: np.ndarray, kind: str, pitch_low: int) -> None:
    rows, columns = sample.shape
    if kind == "pianoroll":
        axes.imshow(sample, cmap="gray_r", vmin=0.0, vmax=1.0, origin="lower", aspect="auto",
                    extent=(-0.5, columns - 0.5, pitch_low - 0.5, pitch_low + rows - 0.5), interpolation="nearest")
        axes.set(title="Piano roll", xlabel="step (16th notes)", ylabel="MIDI pitch")
    elif kind == "melspec":
        axes.imshow(sample, cmap="magma", vmin=0.0, vmax=1.0, origin="lower", aspect="auto", interpolation="nearest")
        axes.set(title="Mel-spectrogram patch", xlabel="frame", ylabel="mel band")
    else:
        axes.imshow(sample, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        axes.set(title="Image", xlabel="column", ylabel="row")


def _draw_evidence(axes, statistics: Sequence[tuple[str, float | None, float]]) -> None:
    positions = np.arange(len(statistics))[::-1]
    for share, bound, colour in CENTRAL_BANDS:
        axes.axvspan(-bound, bound, color=colour, linewidth=0, label=f"middle {share:.0%} of real samples")
    axes.axvline(0.0, color=REFERENCE_COLOUR, linewidth=0.8)
    labels = []
    for position, (name, value, z) in zip(positions, statistics):
        clipped_z = float(np.clip(z, -Z_DISPLAY_LIMIT, Z_DISPLAY_LIMIT))
        marker = "o"
        if z > Z_DISPLAY_LIMIT:
            marker = ">"
        elif z < -Z_DISPLAY_LIMIT:
            marker = "<"
        axes.plot([clipped_z], [position], marker=marker, color="C3", markersize=7)
        if marker != "o":
            axes.annotate(f"z {z:+.0f}", (clipped_z, position), textcoords="offset points", xytext=(-8 if z > 0 else 8, 6),
                          ha="right" if z > 0 else "left", fontsize="small")
        labels.append(f"{name} = {'undefined' if value is None else format(value, '.4g')}")
    axes.set_yticks(positions, labels)
    axes.set_ylim(-0.7, len(statistics) - 0.3)
    axes.set_xlim(-Z_DISPLAY_LIMIT - 0.5, Z_DISPLAY_LIMIT + 0.5)
    axes.set(title="Statistics against real samples", xlabel="normal score z (0 = reference median)")
    axes.grid(axis="x", alpha=0.3)
    # A figure legend placed by the constrained layout stays inside the image.
    handles, names = axes.get_legend_handles_labels()
    axes.figure.legend(handles, names, loc="outside lower right", ncols=3, fontsize="small")


def thumbnail_png(sample: np.ndarray, kind: str) -> bytes:
    """Encode one sample as a small PNG for a grid of thumbnails.

    Images are gray with 0 black. Piano rolls (notes dark on white) and
    mel-spectrograms (magma colour map) are flipped so that the lowest pitch
    or band is at the bottom. Pixels are enlarged by a whole factor up to
    128 pixels on the longer side, and a larger sample is shrunk to fit.

    Parameters
    ----------
    sample : np.ndarray of shape (rows, columns), values in [0, 1]
    kind : {"image", "pianoroll", "melspec"}

    Returns
    -------
    bytes
        The PNG file.
    """
    from PIL import Image

    sample = np.clip(np.asarray(sample, dtype=np.float64), 0.0, 1.0)
    if kind in ("pianoroll", "melspec"):
        sample = sample[::-1]
    if kind == "melspec":
        require_matplotlib()
        import matplotlib

        rgb = matplotlib.colormaps["magma"](sample)[..., :3]
        picture = Image.fromarray(np.rint(rgb * 255).astype(np.uint8), mode="RGB")
    else:
        gray = 1.0 - sample if kind == "pianoroll" else sample
        picture = Image.fromarray(np.rint(gray * 255).astype(np.uint8), mode="L")

    rows, columns = sample.shape
    longer = max(rows, columns)
    if longer > THUMBNAIL_PIXELS:
        scale = THUMBNAIL_PIXELS / longer
        size = (max(1, round(columns * scale)), max(1, round(rows * scale)))
        picture = picture.resize(size, Image.Resampling.BOX)
    else:
        factor = max(1, THUMBNAIL_PIXELS // longer)
        picture = picture.resize((columns * factor, rows * factor), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
