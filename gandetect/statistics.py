"""Per-sample statistics: value distribution, spectral moments, spatial structure.

Every function here is vectorised over a stack of samples ``(n, rows, columns)``
with values in [0, 1] and returns one value per sample, or per sample and column.
"""

from __future__ import annotations

import numpy as np

# Levels of the grid that reference value counts live on. 65535 = 255 * 257,
# so every 8-bit level k/255 and every 16-bit level sits exactly on it.
VALUE_GRID = 65535

# Histogram used for the Jensen-Shannon divergence: 100 equal bins over [0, 1],
# the binning of the value histograms in "Interesting properties of GAN samples".
JSD_BINS = 100

# Mid-range of the value histogram, [0.11, 0.88], from the same paper.
MID_RANGE = (0.11, 0.88)

# Width of the band next to each mode (0 and 1) that counts as "near the mode".
NEAR_MODE_WIDTH = 0.1

# Width of the faint band just above 0: about 5 levels of an 8-bit image.
FAINT_WIDTH = 0.02

# Pixels further than this many pixels (Chebyshev distance) from any pixel
# of value >= 0.5 are background.
BACKGROUND_DISTANCE = 2

SLOPE_WINDOW = 7


class ValueReference:
    """The pooled value distribution of a reference set, as exact level counts.

    Parameters
    ----------
    levels : np.ndarray of shape (k,), dtype int
        Distinct values on the grid ``level / 65535``, ascending.
    counts : np.ndarray of shape (k,), dtype int
        How many reference values sit at each level.
    """

    def __init__(self, levels: np.ndarray, counts: np.ndarray) -> None:
        levels = np.asarray(levels, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        if levels.ndim != 1 or levels.shape != counts.shape or levels.size == 0:
            raise ValueError("levels and counts must be non-empty 1-D arrays of one length")
        if np.any(np.diff(levels) <= 0) or levels[0] < 0 or levels[-1] > VALUE_GRID:
            raise ValueError(f"levels must be strictly ascending integers in 0..{VALUE_GRID}")
        if np.any(counts <= 0):
            raise ValueError("every level count must be positive")

        self.levels = levels
        self.counts = counts
        self.total = int(counts.sum())
        self.values = levels / VALUE_GRID
        self.cdf = np.cumsum(counts) / self.total
        self.histogram = self._histogram()
        self._grid_tables: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_level_counts(cls, level_counts: np.ndarray) -> "ValueReference":
        """Build the reference from a dense count array of length 65536."""
        level_counts = np.asarray(level_counts, dtype=np.int64)
        levels = np.flatnonzero(level_counts)
        return cls(levels, level_counts[levels])

    def pooled_values(self) -> np.ndarray:
        """Expand the counts to the pooled reference values, float64 in [0, 1]."""
        return np.repeat(self.values, self.counts)

    def _histogram(self) -> np.ndarray:
        return weighted_histogram(self.values, self.counts)

    def grid_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return, per level ``c`` of the 1/65535 grid: its value, the CDF at it, and the CDF just below it.

        Built on first use (1.5 MB), so that values on or between grid
        levels find the reference CDF by indexing instead of a binary search.
        """
        if self._grid_tables is None:
            grid = np.arange(VALUE_GRID + 1) / VALUE_GRID
            dense = np.zeros(VALUE_GRID + 1)
            dense[self.levels] = self.counts
            at = np.cumsum(dense) / self.total
            below = np.concatenate([[0.0], at[:-1]])
            self._grid_tables = (grid, at, below)
        return self._grid_tables

    def cdf_at(self, x: np.ndarray) -> np.ndarray:
        """Evaluate the right-continuous reference CDF at ``x`` (any shape)."""
        index = np.searchsorted(self.values, x, side="right")
        padded = np.concatenate([[0.0], self.cdf])
        return padded[index]


def quantise_levels(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to integer levels of the 1/65535 grid."""
    return np.rint(np.asarray(values) * VALUE_GRID).astype(np.int64)


def ks_statistic(values: np.ndarray, reference: ValueReference) -> np.ndarray:
    """Two-sample KS statistic of each sample's values against the reference.

    ``D = sup_t |F_ref(t) - F_sample(t)|`` over the right-continuous empirical
    CDFs, evaluated at every sample value and every reference level, which
    is where ``scipy.stats.ks_2samp`` evaluates it too. The reference is never
    re-sorted: its CDF is a precomputed table.

    Parameters
    ----------
    values : np.ndarray of shape (n, m)
        Each row is one sample's values in [0, 1].

    Returns
    -------
    np.ndarray of shape (n,)
        KS statistics in [0, 1].
    """
    values = np.sort(np.asarray(values, dtype=np.float64), axis=1)
    n, m = values.shape

    # Between two consecutive distinct sample values the sample CDF is flat and
    # the reference CDF rises, so the largest gap there lies at one of the two
    # ends. At the lower value, the last member of its tie has the sample CDF
    # (j + 1) / m. Just before the upper value, the first member of its tie has
    # j / m sample values below it, against the reference's left limit. That
    # covers every point, the reference levels included, without a pass over
    # the reference levels.
    last_of_tie = np.ones_like(values, dtype=bool)
    last_of_tie[:, :-1] = values[:, :-1] != values[:, 1:]
    first_of_tie = np.ones_like(values, dtype=bool)
    first_of_tie[:, 1:] = last_of_tie[:, :-1]
    at_values, before_values = _reference_cdf_around(values, reference)
    steps = np.arange(m + 1) / m
    gaps_at = np.abs(at_values - steps[1:]) * last_of_tie
    gaps_before = np.abs(before_values - steps[:-1]) * first_of_tie
    return np.maximum(gaps_at.max(axis=1), gaps_before.max(axis=1))


def _reference_cdf_around(values: np.ndarray, reference: ValueReference) -> tuple[np.ndarray, np.ndarray]:
    """Return the reference CDF at each value and its limit from below, for values in [0, 1].

    Reference levels lie on the 1/65535 grid, so both depend only on the
    grid level nearest to the value and on which side of it the value lies.
    """
    grid, at, below = reference.grid_tables()
    # Rounding of the product can give a neighbour of the nearest level near a
    # midpoint. Either way, values at or above level c see the CDF at c, and
    # values below it the CDF just below c.
    nearest = np.rint(values * VALUE_GRID).astype(np.intp)
    level = grid[nearest]
    at_level, below_level = at[nearest], below[nearest]
    return np.where(values >= level, at_level, below_level), np.where(values > level, at_level, below_level)


def ks_pvalue(statistic: float, n_sample: int, n_reference: int) -> float:
    """Asymptotic two-sided p-value of a two-sample KS statistic.

    Uses ``scipy.stats.kstwo.sf(D, round(n*m/(n+m)))``, the formula that
    ``scipy.stats.ks_2samp`` applies when either sample has more than 10,000
    values. A reference pooled from many samples always has, so set-level
    p-values agree with ``ks_2samp`` on the pooled values.
    """
    from scipy.stats import kstwo

    effective = n_sample * n_reference / (n_sample + n_reference)
    return float(np.clip(kstwo.sf(statistic, np.round(effective)), 0.0, 1.0))


def histogram_bins(values: np.ndarray) -> np.ndarray:
    """Bin index in 0..99 of each value: ``floor(100 * v)``, with 1 in the last bin."""
    return np.minimum((np.asarray(values) * JSD_BINS).astype(np.int64), JSD_BINS - 1)


def weighted_histogram(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Share of the total count in each of the 100 bins, for values with counts, shape (100,)."""
    histogram = np.bincount(histogram_bins(values), weights=counts, minlength=JSD_BINS)
    return histogram / histogram.sum()


def ks_statistic_counts(values: np.ndarray, counts: np.ndarray, reference: ValueReference) -> float:
    """KS statistic of one set given as distinct ascending values with counts.

    The same statistic as :func:`ks_statistic`, for a pooled set too large
    to hold as one row.
    """
    values = np.asarray(values, dtype=np.float64)
    set_cdf = np.cumsum(counts) / np.sum(counts)
    points = np.concatenate([values, reference.values])
    at = np.searchsorted(values, points, side="right")
    set_at_points = np.concatenate([[0.0], set_cdf])[at]
    return float(np.abs(reference.cdf_at(points) - set_at_points).max())


def value_histogram(values: np.ndarray) -> np.ndarray:
    """Share of each sample's values in the 100 equal bins over [0, 1].

    Returns
    -------
    np.ndarray of shape (n, 100)
        Rows sum to 1.
    """
    values = np.asarray(values, dtype=np.float64)
    n, m = values.shape
    bins = histogram_bins(values)
    offsets = (np.arange(n) * JSD_BINS)[:, np.newaxis]
    counts = np.bincount((bins + offsets).ravel(), minlength=n * JSD_BINS)
    return counts.reshape(n, JSD_BINS) / m


def jensen_shannon(histograms: np.ndarray, reference: ValueReference) -> np.ndarray:
    """Jensen-Shannon divergence in bits between each histogram and the reference's.

    Parameters
    ----------
    histograms : np.ndarray of shape (n, 100)
        Rows sum to 1, as from :func:`value_histogram`.

    Returns
    -------
    np.ndarray of shape (n,), in [0, 1]
    """
    return _jensen_shannon_rows(histograms, reference.histogram)


def _jensen_shannon_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``JSD(P, Q) = (KL(P || M) + KL(Q || M)) / 2`` with ``M = (P + Q) / 2``, per row of ``p``.

    Base-2 logarithms and ``0 log 0 = 0``, so the result lies in [0, 1]. It
    equals the square of ``scipy.spatial.distance.jensenshannon(P, Q, base=2)``,
    computed here in numpy because importing scipy.spatial costs about 0.3 s
    per run (measured with ``python -X importtime`` on scipy 1.17).
    """
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    q = np.broadcast_to(np.asarray(q, dtype=np.float64), p.shape)
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    return np.clip((kl_p + kl_q) / 2.0, 0.0, 1.0)


def jensen_shannon_between(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits between two histograms that each sum to 1."""
    return float(_jensen_shannon_rows(p, q)[0])


def spectral_centroid(values: np.ndarray) -> np.ndarray:
    """Spectral centroid of every column: the expected row index under the column's values.

    Each column is normalised to sum 1 over its rows and the centroid is
    ``sum_r r * x[r] / sum_r x[r]`` with rows counted from 0 at the top
    (Peeters 2004, applied to images as in "Interesting properties of GAN
    samples"). A column whose values sum to 0 has no centroid and gets NaN.

    Parameters
    ----------
    values : np.ndarray of shape (n, rows, columns)

    Returns
    -------
    np.ndarray of shape (n, columns)
        Centroids in [0, rows - 1], NaN for empty columns.
    """
    values = np.asarray(values, dtype=np.float64)
    rows = np.arange(values.shape[1], dtype=np.float64)
    column_sums = values.sum(axis=1)
    weighted = np.einsum("r,nrc->nc", rows, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = weighted / column_sums
    centroid[column_sums <= 0] = np.nan
    return centroid


def spectral_slope(centroids: np.ndarray, window: int = SLOPE_WINDOW) -> np.ndarray:
    """Least-squares slope of the centroids over each sliding window of columns.

    Within a window the centroids are regressed on the column offset
    0 .. window-1. Columns without a centroid are left out of their window's
    fit; a window with fewer than two centroids gets NaN.

    Parameters
    ----------
    centroids : np.ndarray of shape (n, columns)
        From :func:`spectral_centroid`, NaN for empty columns.

    Returns
    -------
    np.ndarray of shape (n, columns - window + 1)
        Slopes in rows per column; empty when there are fewer columns than the window.
    """
    n, columns = centroids.shape
    if columns < window:
        return np.empty((n, 0))

    windows = np.lib.stride_tricks.sliding_window_view(centroids, window, axis=1)
    defined = ~np.isnan(windows)
    weight = defined.astype(np.float64)
    y = np.where(defined, windows, 0.0)
    x = np.broadcast_to(np.arange(window, dtype=np.float64), windows.shape)

    count = weight.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = (weight * x).sum(axis=2) / count
        y_mean = (weight * y).sum(axis=2) / count
        dx = (x - x_mean[..., np.newaxis]) * weight
        slope = (dx * (y - y_mean[..., np.newaxis])).sum(axis=2) / (dx * dx).sum(axis=2)
    slope[count < 2] = np.nan
    return slope


def moments(values: np.ndarray) -> np.ndarray:
    """Mean, standard deviation, skewness and excess kurtosis of each row, ignoring NaN.

    Population (biased) estimators, as ``scipy.stats.skew`` and
    ``scipy.stats.kurtosis`` compute them by default. A row with no value
    gets NaN for all four. A row with no spread gets skewness and kurtosis
    0, because a constant has no asymmetry or tails to measure.

    Parameters
    ----------
    values : np.ndarray of shape (n, k)

    Returns
    -------
    np.ndarray of shape (n, 4)
    """
    values = np.asarray(values, dtype=np.float64)
    defined = ~np.isnan(values)
    count = defined.sum(axis=1)
    filled = np.where(defined, values, 0.0)

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / count
        centred = np.where(defined, values - mean[:, np.newaxis], 0.0)
        m2 = (centred**2).sum(axis=1) / count
        m3 = (centred**3).sum(axis=1) / count
        m4 = (centred**4).sum(axis=1) / count
        # Relative floor: rounding leaves m2 ~ 1e-32 for a constant row.
        flat = m2 <= (1e-12 * np.maximum(np.abs(mean), 1.0)) ** 2
        skew = np.where(flat, 0.0, m3 / m2**1.5)
        kurt = np.where(flat, 0.0, m4 / m2**2 - 3.0)
        std = np.where(flat, 0.0, np.sqrt(m2))

    result = np.stack([mean, std, skew, kurt], axis=1)
    result[count == 0] = np.nan
    return result


def _neighbour_sum(values: np.ndarray) -> np.ndarray:
    """Sum of the 4 edge neighbours of every pixel, with 0 outside the image."""
    total = np.zeros_like(values)
    total[:, 1:, :] += values[:, :-1, :]
    total[:, :-1, :] += values[:, 1:, :]
    total[:, :, 1:] += values[:, :, :-1]
    total[:, :, :-1] += values[:, :, 1:]
    return total


def _near_stroke(values: np.ndarray) -> np.ndarray:
    """Mark pixels within BACKGROUND_DISTANCE (Chebyshev) of a pixel >= 0.5."""
    # A square neighbourhood is a row run times a column run, so the
    # dilation runs along rows, then along columns.
    stroke = values >= 0.5
    reach = BACKGROUND_DISTANCE
    rows, columns = values.shape[1:]
    padded = np.pad(stroke, ((0, 0), (reach, reach), (0, 0)))
    along_rows = np.zeros_like(stroke)
    for dr in range(2 * reach + 1):
        along_rows |= padded[:, dr : dr + rows, :]
    padded = np.pad(along_rows, ((0, 0), (0, 0), (reach, reach)))
    near = np.zeros_like(stroke)
    for dc in range(2 * reach + 1):
        near |= padded[:, :, dc : dc + columns]
    return near


def _peak_level_share(sorted_values: np.ndarray) -> np.ndarray:
    """Share of the most frequent value inside [FAINT_WIDTH, 1 - FAINT_WIDTH], per row.

    FGSM moves every background pixel to exactly 0 + eps or leaves it at 0,
    and PGD piles pixels on the boundary of its eps-ball, so one value away
    from the modes holds a large share. Faint values next to 0 and 1 are left
    out, because rounding a generator's output to 8 bits piles those up too.
    """
    n, m = sorted_values.shape
    starts = np.ones_like(sorted_values, dtype=bool)
    starts[:, 1:] = sorted_values[:, 1:] != sorted_values[:, :-1]
    flat_starts = np.flatnonzero(starts.ravel())
    run_lengths = np.diff(np.append(flat_starts, n * m))
    run_values = sorted_values.ravel()[flat_starts]
    in_band = (run_values >= FAINT_WIDTH) & (run_values <= 1.0 - FAINT_WIDTH)

    peak = np.zeros(n, dtype=np.int64)
    np.maximum.at(peak, flat_starts // m, np.where(in_band, run_lengths, 0))
    return peak / m


VALUE_DESCRIPTIONS = {
    "ks": "KS statistic of the sample's values against the reference values",
    "jsd": "Jensen-Shannon divergence (bits) of the 100-bin value histogram",
    "exact_zero_share": "share of values exactly 0",
    "exact_one_share": "share of values exactly 1",
    "faint_share": "share of values in (0, 0.02)",
    "low_tail_share": "share of values in (0, 0.1]",
    "high_tail_share": "share of values in [0.9, 1)",
    "mid_share": "share of values in the mid-range [0.11, 0.88]",
    "mean_value": "mean value",
    "peak_level_share": "share of the most frequent value in [0.02, 0.98]",
}

SPATIAL_DESCRIPTIONS = {
    "isolated_share": "share of non-zero pixels whose 4 neighbours are all 0",
    "background_lit_share": "share of non-zero pixels more than 2 pixels from any stroke",
    "background_roughness": "mean |pixel - neighbour mean| in the background, over its mean",
    "laplacian_energy": "mean |4-neighbour Laplacian| over the mean value",
}

SPECTRAL_DESCRIPTIONS = {
    "centroid_mean": "mean of the column spectral centroids",
    "centroid_std": "standard deviation of the column spectral centroids",
    "centroid_skew": "skewness of the column spectral centroids",
    "centroid_kurtosis": "excess kurtosis of the column spectral centroids",
    "slope_mean": "mean of the spectral slopes (window 7)",
    "slope_std": "standard deviation of the spectral slopes",
    "slope_skew": "skewness of the spectral slopes",
    "slope_kurtosis": "excess kurtosis of the spectral slopes",
}


def value_statistics(values: np.ndarray, reference: ValueReference) -> dict[str, np.ndarray]:
    """Statistics of each sample's value distribution, named as in :data:`VALUE_DESCRIPTIONS`.

    Samples whose values are all 8-bit levels ``k / 255`` (PNG images,
    ``uint8`` arrays) are counted per level instead of sorted, which gives
    the same statistics several times faster.

    Parameters
    ----------
    values : np.ndarray of shape (n, rows, columns), values in [0, 1]

    Returns
    -------
    dict of str to np.ndarray of shape (n,)
    """
    n = values.shape[0]
    flat = np.asarray(values, dtype=np.float64).reshape(n, -1)
    levels = np.rint(flat * 255.0)
    eight_bit = (levels / 255.0 == flat).all(axis=1)
    if eight_bit.all():
        return _value_statistics_8bit(levels.astype(np.intp), reference)
    if not eight_bit.any():
        return _value_statistics_sorted(flat, reference)
    result = {name: np.empty(n) for name in VALUE_DESCRIPTIONS}
    for rows, part in (
        (eight_bit, _value_statistics_8bit(levels[eight_bit].astype(np.intp), reference)),
        (~eight_bit, _value_statistics_sorted(flat[~eight_bit], reference)),
    ):
        for name, column in part.items():
            result[name][rows] = column
    return result


def _value_statistics_sorted(flat: np.ndarray, reference: ValueReference) -> dict[str, np.ndarray]:
    """Value statistics of samples with any values, shape (n, m), through one sort per sample."""
    sorted_flat = np.sort(flat, axis=1)
    return {
        "ks": ks_statistic(sorted_flat, reference),
        "jsd": jensen_shannon(value_histogram(flat), reference),
        "exact_zero_share": (flat == 0.0).mean(axis=1),
        "exact_one_share": (flat == 1.0).mean(axis=1),
        "faint_share": ((flat > 0.0) & (flat < FAINT_WIDTH)).mean(axis=1),
        "low_tail_share": ((flat > 0.0) & (flat <= NEAR_MODE_WIDTH)).mean(axis=1),
        "high_tail_share": ((flat >= 1.0 - NEAR_MODE_WIDTH) & (flat < 1.0)).mean(axis=1),
        "mid_share": ((flat >= MID_RANGE[0]) & (flat <= MID_RANGE[1])).mean(axis=1),
        "mean_value": flat.mean(axis=1),
        "peak_level_share": _peak_level_share(sorted_flat),
    }


# The 256 values of 8-bit data, exactly as k / 255 computes them.
EIGHT_BIT_VALUES = np.arange(256) / 255.0


def _value_statistics_8bit(levels: np.ndarray, reference: ValueReference) -> dict[str, np.ndarray]:
    """Value statistics of samples of 8-bit levels 0..255, shape (n, m), from per-sample level counts.

    Every statistic depends on the values only through how many sit at each
    level. The level tests below use the same float values and comparisons
    as :func:`_value_statistics_sorted`, so both give the same numbers, the
    mean up to rounding of the sum.
    """
    n, m = levels.shape
    offsets = (np.arange(n) * 256)[:, np.newaxis]
    counts = np.bincount((levels + offsets).ravel(), minlength=n * 256).reshape(n, 256).astype(np.float64)
    cumulative = np.cumsum(counts, axis=1)
    x = EIGHT_BIT_VALUES

    # KS: the sample CDF is flat between levels, so the sup of the gap is
    # taken at each level and just before it (see ks_statistic).
    _, at, below = reference.grid_tables()
    grid_index = np.arange(256) * (VALUE_GRID // 255)
    sample_at = cumulative / m
    sample_before = np.concatenate([np.zeros((n, 1)), sample_at[:, :-1]], axis=1)
    ks = np.maximum(
        np.abs(at[grid_index] - sample_at).max(axis=1), np.abs(below[grid_index] - sample_before).max(axis=1)
    )

    # Histogram bins and level bands are runs of consecutive levels, so each
    # count is a difference of the cumulative counts at the ends of its run.
    bin_ends = np.searchsorted(histogram_bins(x), np.arange(JSD_BINS), side="right") - 1
    padded = np.concatenate([np.zeros((n, 1)), cumulative], axis=1)
    histogram = np.diff(padded[:, bin_ends + 1], axis=1, prepend=0.0)
    bands = np.stack(
        [
            (x > 0.0) & (x < FAINT_WIDTH),
            (x > 0.0) & (x <= NEAR_MODE_WIDTH),
            (x >= 1.0 - NEAR_MODE_WIDTH) & (x < 1.0),
            (x >= MID_RANGE[0]) & (x <= MID_RANGE[1]),
        ],
        axis=1,
    ).astype(np.float64)
    shares = counts @ bands / m
    in_band = (x >= FAINT_WIDTH) & (x <= 1.0 - FAINT_WIDTH)
    return {
        "ks": ks,
        "jsd": jensen_shannon(histogram / m, reference),
        "exact_zero_share": counts[:, 0] / m,
        "exact_one_share": counts[:, 255] / m,
        "faint_share": shares[:, 0],
        "low_tail_share": shares[:, 1],
        "high_tail_share": shares[:, 2],
        "mid_share": shares[:, 3],
        "mean_value": counts @ x / m,
        "peak_level_share": counts[:, in_band].max(axis=1) / m,
    }


def spatial_statistics(values: np.ndarray) -> dict[str, np.ndarray]:
    """Spatial structure of each image, named as in :data:`SPATIAL_DESCRIPTIONS`.

    A sample with no lit pixel gets 0 for the shares; a sample whose
    background is all 0 gets roughness 0.
    """
    values = np.asarray(values, dtype=np.float64)
    mean_value = values.mean(axis=(1, 2))
    lit = values > 0.0
    neighbour_sum = _neighbour_sum(values)
    isolated = (lit & (neighbour_sum == 0.0)).sum(axis=(1, 2)) / np.maximum(lit.sum(axis=(1, 2)), 1)
    background = ~_near_stroke(values)
    n_background = np.maximum(background.sum(axis=(1, 2)), 1)
    background_mean = (values * background).sum(axis=(1, 2)) / n_background
    residual = np.abs(values - neighbour_sum / 4.0)
    background_residual = (residual * background).sum(axis=(1, 2)) / n_background
    # |4v - s| = 4 |v - s/4| exactly, since scaling by 4 changes no rounding.
    laplacian = 4.0 * residual.mean(axis=(1, 2))
    return {
        "isolated_share": isolated,
        "background_lit_share": (lit & background).sum(axis=(1, 2)) / n_background,
        "background_roughness": background_residual / np.maximum(background_mean, 1e-6),
        "laplacian_energy": laplacian / np.maximum(mean_value, 1e-6),
    }


def spectral_statistics(values: np.ndarray) -> dict[str, np.ndarray]:
    """Moments of the column spectral centroids and of their slopes (window 7).

    NaN where undefined: every moment of a blank sample, slope moments when
    no window holds two lit columns.
    """
    centroids = spectral_centroid(values)
    centroid_moments = moments(centroids)
    slope_moments = moments(spectral_slope(centroids))
    names = ("mean", "std", "skew", "kurtosis")
    result = {f"centroid_{name}": centroid_moments[:, i] for i, name in enumerate(names)}
    result.update({f"slope_{name}": slope_moments[:, i] for i, name in enumerate(names)})
    return result
