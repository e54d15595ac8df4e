"""Statistics checked against scipy and against answers worked out by hand."""

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import kurtosis, ks_2samp, skew

from gandetect.kinds import Context, ImageKind
from gandetect.statistics import (
    VALUE_GRID,
    ValueReference,
    jensen_shannon,
    ks_pvalue,
    ks_statistic,
    ks_statistic_counts,
    moments,
    quantise_levels,
    spectral_centroid,
    spectral_slope,
    value_histogram,
    value_statistics,
)


def _reference_from(values: np.ndarray) -> ValueReference:
    return ValueReference.from_level_counts(
        np.bincount(quantise_levels(values).ravel(), minlength=VALUE_GRID + 1)
    )


@pytest.fixture(scope="module")
def eight_bit_reference():
    rng = np.random.default_rng(1)
    levels = rng.integers(0, 256, 40_000)
    levels[:30_000] = 0  # a strong mode at 0, as in MNIST
    return _reference_from(levels / 255.0)


@pytest.mark.parametrize("kind", ["eight_bit", "float", "mode_heavy"])
def test_ks_statistic_matches_scipy(eight_bit_reference, kind):
    rng = np.random.default_rng(2)
    if kind == "eight_bit":
        samples = rng.integers(0, 256, (4, 784)) / 255.0
    elif kind == "float":
        samples = rng.random((4, 784))
    else:
        samples = rng.integers(0, 256, (4, 784)) / 255.0
        samples[:, :600] = 0.0
    pooled = eight_bit_reference.pooled_values()

    ours = ks_statistic(samples, eight_bit_reference)

    for row, statistic in zip(samples, ours):
        # Both are exact maxima over the same finite set of points.
        assert statistic == pytest.approx(ks_2samp(row, pooled).statistic, abs=1e-12)


def test_ks_statistic_identical_sets_is_zero():
    # 128/255 lies on the 1/65535 grid; 0.5 would be rounded to a neighbour level.
    values = np.array([[0.0, 0.0, 128 / 255, 1.0]])
    reference = _reference_from(values)

    assert ks_statistic(values, reference)[0] == pytest.approx(0.0, abs=1e-15)


def test_ks_counts_and_pvalue_match_scipy(eight_bit_reference):
    rng = np.random.default_rng(3)
    pooled_set = np.concatenate([rng.random(20_000), np.zeros(5_000)])
    values, counts = np.unique(pooled_set, return_counts=True)
    expected = ks_2samp(pooled_set, eight_bit_reference.pooled_values())

    statistic = ks_statistic_counts(values, counts, eight_bit_reference)
    p_value = ks_pvalue(statistic, pooled_set.size, eight_bit_reference.total)

    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    # Same formula (kstwo.sf at the rounded effective size), so agreement is to rounding.
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_jensen_shannon_matches_scipy(eight_bit_reference):
    rng = np.random.default_rng(4)
    samples = rng.random((5, 784)) ** 3
    histograms = value_histogram(samples)

    ours = jensen_shannon(histograms, eight_bit_reference)
    theirs = jensenshannon(histograms, np.broadcast_to(eight_bit_reference.histogram, histograms.shape), axis=1, base=2) ** 2

    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_jensen_shannon_disjoint_is_one():
    reference = _reference_from(np.zeros(100))
    histograms = value_histogram(np.ones((1, 10)))

    assert jensen_shannon(histograms, reference)[0] == pytest.approx(1.0)


def test_value_histogram_puts_one_in_last_bin():
    histogram = value_histogram(np.array([[0.0, 0.005, 0.5, 1.0]]))

    assert histogram[0, 0] == 0.5
    assert histogram[0, 50] == 0.25
    assert histogram[0, 99] == 0.25


def test_centroid_of_single_lit_row_is_that_row():
    image = np.zeros((1, 10, 4))
    image[0, 7, :] = 0.3

    # 0.3 * 7 / 0.3 is 7 only to rounding.
    np.testing.assert_allclose(spectral_centroid(image), [[7.0, 7.0, 7.0, 7.0]], rtol=1e-14)


def test_centroid_of_empty_column_is_nan():
    image = np.zeros((1, 4, 3))
    image[0, 0, 0] = 1.0
    image[0, 3, 0] = 1.0

    centroid = spectral_centroid(image)

    assert centroid[0, 0] == 1.5
    assert np.isnan(centroid[0, 1])
    assert np.isnan(centroid[0, 2])


def test_slope_of_linear_centroids():
    centroids = np.array([[2.0 + 0.5 * c for c in range(10)]])

    slopes = spectral_slope(centroids)

    assert slopes.shape == (1, 4)
    np.testing.assert_allclose(slopes, 0.5)


def test_slope_skips_missing_columns():
    centroids = np.array([[0.0, np.nan, 2.0, 3.0, np.nan, 5.0, 6.0, np.nan]])

    slopes = spectral_slope(centroids)

    # Window 0 holds (0,0), (2,2), (3,3), (5,5), (6,6): slope 1 exactly.
    assert slopes[0, 0] == pytest.approx(1.0)
    assert slopes[0, 1] == pytest.approx(1.0)


def test_slope_window_with_one_centroid_is_nan():
    centroids = np.full((1, 7), np.nan)
    centroids[0, 3] = 4.0

    assert np.isnan(spectral_slope(centroids)[0, 0])


def test_moments_match_scipy():
    rng = np.random.default_rng(5)
    rows = rng.gamma(2.0, size=(3, 50))
    rows[1, :7] = np.nan

    result = moments(rows)

    for row, (mean, std, skewness, excess) in zip(rows, result):
        finite = row[~np.isnan(row)]
        assert mean == pytest.approx(finite.mean())
        assert std == pytest.approx(finite.std())
        assert skewness == pytest.approx(skew(finite))
        assert excess == pytest.approx(kurtosis(finite))


def test_moments_of_constant_and_empty_rows():
    result = moments(np.array([[3.0, 3.0, 3.0], [np.nan, np.nan, np.nan]]))

    np.testing.assert_array_equal(result[0], [3.0, 0.0, 0.0, 0.0])
    assert np.isnan(result[1]).all()


def test_features_by_hand():
    image = np.zeros((1, 6, 6))
    image[0, 0, 0] = 0.2  # an isolated faint pixel in the corner, far from the stroke
    image[0, 4, 2:5] = 1.0
    image[0, 3, 3] = 128 / 255
    reference = _reference_from(image)

    features = {name: values[0] for name, values in ImageKind().named_features(image, Context(reference)).items()}

    assert features["exact_zero_share"] == pytest.approx(31 / 36)
    assert features["exact_one_share"] == pytest.approx(3 / 36)
    assert features["mid_share"] == pytest.approx(2 / 36)
    assert features["peak_level_share"] == pytest.approx(1 / 36)
    assert features["isolated_share"] == pytest.approx(1 / 5)
    assert features["ks"] == pytest.approx(0.0, abs=1e-15)
    assert features["jsd"] == pytest.approx(0.0, abs=1e-15)


def test_features_of_blank_image_are_defined_or_nan():
    blank = np.zeros((1, 8, 8))
    reference = _reference_from(np.linspace(0, 1, 100))

    features = {name: values[0] for name, values in ImageKind().named_features(blank, Context(reference)).items()}

    assert features["exact_zero_share"] == 1.0
    assert features["peak_level_share"] == 0.0
    assert features["isolated_share"] == 0.0
    assert np.isnan(features["centroid_mean"])
    assert np.isnan(features["slope_std"])


def test_reference_rejects_bad_levels():
    with pytest.raises(ValueError, match="ascending"):
        ValueReference(np.array([3, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match="positive"):
        ValueReference(np.array([1, 3]), np.array([1, 0]))


def _statistics_by_hand(row: np.ndarray, reference: ValueReference) -> dict[str, float]:
    """The value statistics of one sample, each computed directly from its definition."""
    distinct, counts = np.unique(row, return_counts=True)
    in_band = (distinct >= 0.02) & (distinct <= 0.98)
    histogram = np.histogram(np.minimum(row, 0.999999), bins=100, range=(0.0, 1.0))[0] / row.size
    return {
        "ks": ks_2samp(row, reference.pooled_values()).statistic,
        "jsd": jensenshannon(histogram, reference.histogram, base=2) ** 2,
        "exact_zero_share": np.mean(row == 0.0),
        "exact_one_share": np.mean(row == 1.0),
        "faint_share": np.mean((row > 0.0) & (row < 0.02)),
        "low_tail_share": np.mean((row > 0.0) & (row <= 0.1)),
        "high_tail_share": np.mean((row >= 0.9) & (row < 1.0)),
        "mid_share": np.mean((row >= 0.11) & (row <= 0.88)),
        "mean_value": np.mean(row),
        "peak_level_share": counts[in_band].max(initial=0) / row.size,
    }


def test_eight_bit_and_float_samples_match_definitions(eight_bit_reference):
    rng = np.random.default_rng(3)
    eight_bit = rng.integers(0, 256, (3, 28, 28)) / 255.0
    eight_bit[0, :20] = 0.0
    eight_bit[1] = 1.0
    float_sample = rng.random((1, 28, 28))
    stack = np.concatenate([eight_bit, float_sample])

    together = value_statistics(stack, eight_bit_reference)

    for i, sample in enumerate(stack):
        expected = _statistics_by_hand(sample.ravel(), eight_bit_reference)
        alone = value_statistics(sample[np.newaxis], eight_bit_reference)
        for name, value in expected.items():
            assert together[name][i] == pytest.approx(value, abs=1e-12), name
            assert alone[name][0] == pytest.approx(together[name][i], rel=1e-14, abs=1e-15), name


@pytest.mark.parametrize("n_levels", [1, 2, 256, 20_000, 65_536])
def test_ks_matches_scipy_for_level_counts(n_levels):
    rng = np.random.default_rng(n_levels)
    levels = np.sort(rng.choice(VALUE_GRID + 1, n_levels, replace=False))
    reference = ValueReference(levels, rng.integers(1, 50, n_levels))
    on_levels = rng.choice(reference.values, (3, 300))
    samples = np.concatenate(
        [
            rng.random((3, 300)),
            on_levels,
            np.nextafter(on_levels, 2.0).clip(0.0, 1.0),  # just above a level
            np.nextafter(on_levels, -1.0).clip(0.0, 1.0),  # just below a level
            (rng.integers(0, VALUE_GRID, (3, 300)) + 0.5) / VALUE_GRID,  # midway between levels
        ]
    )
    pooled = reference.pooled_values()

    ours = ks_statistic(samples, reference)

    for row, statistic in zip(samples, ours):
        assert statistic == pytest.approx(ks_2samp(row, pooled).statistic, abs=1e-12)
