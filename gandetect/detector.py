"""The one-class detector: standardise statistics against real data, score, calibrate.

Layers, each visible in results:

1. ``Kind.features`` gives raw statistics per sample.
2. Each statistic becomes a signed z-score against the reference samples:
   ``(x - median) / scale`` where the scale is the distance from the median
   to the 15.87th percentile below it or the 84.13th above it, so the
   z-score is a normal score for skewed statistics too.
3. The raw score is the negative log-likelihood of the z-score vector under
   a Gaussian mixture fitted to the reference samples. Real data has
   clusters (MNIST holds a few percent of binarised digits, with ten times
   the usual share of exact 1s), and a mixture scores each cluster as
   typical where a single centre would flag it.
4. The p-value is the share of held-out real calibration samples whose
   raw score is at least as large, with the usual +1 correction.
5. The verdict is ``real`` when ``p >= level``; a flagged sample is
   ``adversarial`` when its perturbation signature is itself significant
   (see :func:`perturbation_score`) and ``gan`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Percentiles one standard deviation either side of the median of a normal.
LOWER_PERCENTILE = 15.865525393145708
UPPER_PERCENTILE = 84.1344746068543

# Quantile grid stored per statistic, for tail shares in the evidence.
QUANTILE_LEVELS = np.linspace(0.0, 1.0, 201)

MAX_COMPONENTS = 8
# Added to the diagonal of every covariance, in z units: keeps statistics
# that are constant in the reference (such as the share of exact 1s in
# float data) from giving a singular covariance.
COVARIANCE_FLOOR = 1e-3
# z-scores are clipped here before the mixture, so that one absurd statistic
# cannot overflow the likelihood; a |z| of 1000 is flagged either way.
Z_CLIP = 1e3


@dataclass
class Standardiser:
    """Per-statistic centre and one-sided scales learned from reference samples.

    Attributes
    ----------
    median, lower_scale, upper_scale : np.ndarray of shape (n_features,)
    quantiles : np.ndarray of shape (n_features, 201)
        Reference quantiles at levels 0, 0.005, ..., 1.
    """

    median: np.ndarray
    lower_scale: np.ndarray
    upper_scale: np.ndarray
    quantiles: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray) -> "Standardiser":
        """Learn centres and scales from reference features of shape (n, n_features).

        NaN entries (undefined statistics) are ignored. A statistic with no
        spread on one side gets a scale from the outer quantiles, and failing
        that a floor of 1e-3 of its range, so that a z-score is always finite.
        """
        quantiles = np.nanquantile(features, QUANTILE_LEVELS, axis=0).T
        median = np.nanmedian(features, axis=0)
        low = np.nanpercentile(features, LOWER_PERCENTILE, axis=0)
        high = np.nanpercentile(features, UPPER_PERCENTILE, axis=0)

        spread = np.maximum(quantiles[:, -1] - quantiles[:, 0], 1e-9)
        outer_low = (median - quantiles[:, 1]) / 2.576
        outer_high = (quantiles[:, -2] - median) / 2.576
        floor = 1e-3 * spread
        lower_scale = np.maximum(np.where(median - low > 0, median - low, outer_low), floor)
        upper_scale = np.maximum(np.where(high - median > 0, high - median, outer_high), floor)
        return cls(median, lower_scale, upper_scale, quantiles)

    def z_scores(self, features: np.ndarray) -> np.ndarray:
        """Signed z-scores, shape (n, n_features); 0 where a statistic is undefined."""
        offset = features - self.median
        scale = np.where(offset >= 0, self.upper_scale, self.lower_scale)
        return np.nan_to_num(offset / scale, nan=0.0)

    def tail_shares(self, features: np.ndarray) -> np.ndarray:
        """Two-sided share of reference samples at least as far out, from the quantile grid."""
        shares = np.empty_like(features)
        for j in range(features.shape[1]):
            grid = self.quantiles[j]
            low = np.searchsorted(grid, features[:, j], side="right") / grid.size
            high = 1.0 - np.searchsorted(grid, features[:, j], side="left") / grid.size
            shares[:, j] = np.minimum(1.0, 2.0 * np.minimum(low, high))
        shares[np.isnan(features)] = np.nan
        return shares

    def to_json(self) -> dict:
        return {
            "median": self.median.tolist(),
            "lower_scale": self.lower_scale.tolist(),
            "upper_scale": self.upper_scale.tolist(),
            "quantile_levels": len(QUANTILE_LEVELS),
            "quantiles": self.quantiles.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Standardiser":
        return cls(
            median=np.asarray(data["median"], dtype=np.float64),
            lower_scale=np.asarray(data["lower_scale"], dtype=np.float64),
            upper_scale=np.asarray(data["upper_scale"], dtype=np.float64),
            quantiles=np.asarray(data["quantiles"], dtype=np.float64),
        )


@dataclass
class GaussianMixtureDensity:
    """A Gaussian mixture over z-score vectors, stored as plain arrays.

    Attributes
    ----------
    weights : np.ndarray of shape (k,)
    means : np.ndarray of shape (k, d)
    precision_cholesky : np.ndarray of shape (k, d, d)
        Upper-triangular ``U`` with ``U @ U.T`` the precision, as
        ``sklearn.mixture.GaussianMixture.precisions_cholesky_`` stores it.
    """

    weights: np.ndarray
    means: np.ndarray
    precision_cholesky: np.ndarray

    @classmethod
    def fit(cls, z: np.ndarray, *, seed: int = 0) -> "GaussianMixtureDensity":
        """Fit mixtures of 1 to 8 full-covariance components and keep the one with the lowest BIC."""
        from sklearn.mixture import GaussianMixture

        z = np.clip(z, -Z_CLIP, Z_CLIP)
        best = None
        for n_components in range(1, MAX_COMPONENTS + 1):
            if n_components * 10 > z.shape[0]:
                break
            mixture = GaussianMixture(
                n_components,
                covariance_type="full",
                reg_covar=COVARIANCE_FLOOR,
                n_init=2,
                random_state=seed,
            ).fit(z)
            bic = mixture.bic(z)
            if best is None or bic < best[0]:
                best = (bic, mixture)
        mixture = best[1]
        return cls(mixture.weights_, mixture.means_, mixture.precisions_cholesky_)

    def negative_log_likelihood(self, z: np.ndarray) -> np.ndarray:
        """``-log p(z)`` per row, shape (n,), the same value as ``-GaussianMixture.score_samples``."""
        z = np.clip(z, -Z_CLIP, Z_CLIP)
        d = z.shape[1]
        log_terms = np.empty((z.shape[0], self.weights.size))
        for k in range(self.weights.size):
            u = self.precision_cholesky[k]
            projected = z @ u - self.means[k] @ u
            log_det = np.log(np.diag(u)).sum()
            log_terms[:, k] = (
                np.log(self.weights[k]) + log_det
                - 0.5 * (d * np.log(2.0 * np.pi) + (projected**2).sum(axis=1))
            )
        top = log_terms.max(axis=1, keepdims=True)
        return -(top[:, 0] + np.log(np.exp(log_terms - top).sum(axis=1)))

    def to_json(self) -> dict:
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "precision_cholesky": self.precision_cholesky.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "GaussianMixtureDensity":
        weights = np.asarray(data["weights"], dtype=np.float64)
        means = np.asarray(data["means"], dtype=np.float64)
        cholesky = np.asarray(data["precision_cholesky"], dtype=np.float64)
        k = weights.size
        if weights.ndim != 1 or means.ndim != 2 or means.shape[0] != k:
            raise ValueError("mixture weights and means do not match")
        if cholesky.shape != (k, means.shape[1], means.shape[1]):
            raise ValueError("mixture precision_cholesky has the wrong shape")
        diagonals = np.diagonal(cholesky, axis1=1, axis2=2)
        if not (np.all(weights > 0) and np.all(np.isfinite(cholesky)) and np.all(diagonals > 0)):
            raise ValueError("mixture weights must be positive and matrices finite")
        return cls(weights, means, cholesky)


def perturbation_score(z: np.ndarray, columns: list[int]) -> np.ndarray:
    """Largest upward z among the perturbation statistics ``columns``, shape (n,); 0 when there are none."""
    if not columns:
        return np.zeros(z.shape[0])
    return np.clip(z[:, columns], 0.0, None).max(axis=1)


def empirical_pvalue(scores: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    """Share of calibration scores at least as large as each score, ``(1 + k) / (1 + n)``.

    Parameters
    ----------
    scores : np.ndarray of shape (n,)
    calibration : np.ndarray of shape (m,), sorted ascending
    """
    at_least = calibration.size - np.searchsorted(calibration, scores, side="left")
    return (1.0 + at_least) / (1.0 + calibration.size)
