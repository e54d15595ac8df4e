"""The one-class detector: standardise statistics against real data, score, calibrate.

Layers, each visible in results:

1. ``Kind.features`` gives raw statistics per sample.
2. Each statistic becomes a signed normal score against the reference
   samples (see :class:`Standardiser`).
3. The raw score is the negative log-likelihood of the z-score vector under
   a Gaussian mixture fitted to the reference samples. Real data has
   clusters (MNIST holds a few percent of binarised digits, with ten times
   the usual share of exact 1s), and a mixture scores each cluster as
   typical where a single centre would flag it.
4. The p-value is the share of held-out real calibration samples whose
   raw score is at least as large, with the usual +1 correction, and an
   exponential tail beyond the largest calibration score.
5. The verdict is ``real`` when ``p >= level``; a flagged sample is
   ``adversarial`` when its perturbation signature is itself significant
   (see :func:`perturbation_score`) and ``gan`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Quantile grid stored per statistic, for tail shares in the evidence.
QUANTILE_LEVELS = np.linspace(0.0, 1.0, 201)

# Share of the largest calibration scores that the exponential tail is fitted to.
TAIL_SHARE = 0.1

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
    """Per-statistic normal scores learned from reference samples.

    Inside the reference range a value maps to ``Phi^-1(F(x))``, where ``F``
    is the reference CDF read off a grid of 201 quantiles (ties take the
    middle of their levels) and clipped to ``[0.5 / n, 1 - 0.5 / n]``. A
    statistic whose reference values form clusters therefore scores a value
    in a small cluster as a few standard deviations out, not forty. Beyond
    the reference range the score continues linearly with the slope of the
    outer 5%, so a value far outside still scores far out.

    Attributes
    ----------
    quantiles : np.ndarray of shape (n_features, 201)
        Reference quantiles at levels 0, 0.005, ..., 1.
    n_reference : int
        Reference samples the quantiles came from.
    """

    quantiles: np.ndarray
    n_reference: int

    def __post_init__(self) -> None:
        from statistics import NormalDist

        levels = np.clip(QUANTILE_LEVELS, 0.5 / self.n_reference, 1.0 - 0.5 / self.n_reference)
        normal = NormalDist()
        z_grid = np.array([normal.inv_cdf(level) for level in levels])
        self._maps = [self._map_for(row, z_grid) for row in self.quantiles]

    @staticmethod
    def _map_for(row: np.ndarray, z_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        values, inverse = np.unique(row, return_inverse=True)
        z_values = np.bincount(inverse, weights=z_grid) / np.bincount(inverse)
        spread = float(row[-1] - row[0])
        floor = 1e-3 * max(spread, abs(float(row[-1])), abs(float(row[0])), 1e-3)
        outer = int(round(0.05 * (row.size - 1)))
        low_z = z_values[np.searchsorted(values, row[outer])]
        high_z = z_values[np.searchsorted(values, row[-1 - outer])]
        lower_scale = (row[outer] - row[0]) / (low_z - z_values[0]) if low_z > z_values[0] else 0.0
        upper_scale = (row[-1] - row[-1 - outer]) / (z_values[-1] - high_z) if z_values[-1] > high_z else 0.0
        return values, z_values, max(float(lower_scale), floor), max(float(upper_scale), floor)

    @classmethod
    def fit(cls, features: np.ndarray) -> "Standardiser":
        """Learn the quantile grids from reference features of shape (n, n_features).

        NaN entries (undefined statistics) are ignored; a statistic that is
        undefined for every reference sample gets a grid of zeros.
        """
        with np.errstate(all="ignore"):
            quantiles = np.nanquantile(features, QUANTILE_LEVELS, axis=0).T
        quantiles = np.nan_to_num(quantiles, nan=0.0)
        return cls(quantiles, int(features.shape[0]))

    @property
    def median(self) -> np.ndarray:
        """Reference median of every statistic, shape (n_features,)."""
        return self.quantiles[:, len(QUANTILE_LEVELS) // 2]

    def z_scores(self, features: np.ndarray) -> np.ndarray:
        """Normal scores, shape (n, n_features); 0 where a statistic is undefined."""
        z = np.zeros(features.shape)
        for j, (values, z_values, lower_scale, upper_scale) in enumerate(self._maps):
            x = features[:, j]
            column = np.interp(x, values, z_values)
            column = np.where(x > values[-1], z_values[-1] + (x - values[-1]) / upper_scale, column)
            column = np.where(x < values[0], z_values[0] + (x - values[0]) / lower_scale, column)
            z[:, j] = np.where(np.isnan(x), 0.0, column)
        return z

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
        return {"n_reference": self.n_reference, "quantiles": self.quantiles.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> "Standardiser":
        quantiles = np.asarray(data["quantiles"], dtype=np.float64)
        n_reference = int(data["n_reference"])
        if quantiles.ndim != 2 or quantiles.shape[1] != len(QUANTILE_LEVELS):
            raise ValueError(f"standardiser quantiles must have {len(QUANTILE_LEVELS)} columns")
        if not np.all(np.isfinite(quantiles)) or np.any(np.diff(quantiles, axis=1) < 0):
            raise ValueError("standardiser quantiles must be finite and ascending")
        if n_reference < 1:
            raise ValueError("standardiser n_reference must be positive")
        return cls(quantiles, n_reference)


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


@dataclass
class LinearScore:
    """A logistic-regression decision function over clipped normal scores, stored as plain numbers.

    Attributes
    ----------
    coefficients : np.ndarray of shape (n_features,)
    intercept : float
    """

    coefficients: np.ndarray
    intercept: float

    # Normal scores are clipped here before the linear map, so that a single
    # absurd statistic cannot decide a supervised score alone.
    CLIP = 50.0

    @classmethod
    def fit(cls, negatives: np.ndarray, positives: np.ndarray, *, seed: int = 0) -> "LinearScore":
        """Fit class-balanced logistic regression: ``negatives`` (label 0) against ``positives`` (label 1)."""
        from sklearn.linear_model import LogisticRegression

        inputs = np.clip(np.vstack([negatives, positives]), -cls.CLIP, cls.CLIP)
        labels = np.concatenate([np.zeros(len(negatives)), np.ones(len(positives))])
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, random_state=seed)
        model.fit(inputs, labels)
        return cls(model.coef_[0].copy(), float(model.intercept_[0]))

    def decision(self, z: np.ndarray) -> np.ndarray:
        """Log-odds of the positive class, shape (n,)."""
        return np.clip(z, -self.CLIP, self.CLIP) @ self.coefficients + self.intercept

    def to_json(self) -> dict:
        return {"coefficients": self.coefficients.tolist(), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict, n_features: int) -> "LinearScore":
        coefficients = np.asarray(data["coefficients"], dtype=np.float64)
        intercept = float(data["intercept"])
        if coefficients.shape != (n_features,) or not np.all(np.isfinite(coefficients)) or not np.isfinite(intercept):
            raise ValueError(f"linear score must hold {n_features} finite coefficients")
        return cls(coefficients, intercept)


def perturbation_score(z: np.ndarray, columns: list[int]) -> np.ndarray:
    """Largest upward z among the perturbation statistics ``columns``, shape (n,); 0 when there are none."""
    if not columns:
        return np.zeros(z.shape[0])
    return np.clip(z[:, columns], 0.0, None).max(axis=1)


def empirical_pvalue(scores: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    """Share of calibration scores at least as large as each score, with an exponential tail beyond them.

    Within the calibration range the p-value is the empirical
    ``(1 + k) / (1 + n)``, so a level of at least ``1 / (1 + n)`` flags the
    expected share of real samples. Beyond the largest calibration score,
    where the empirical value would stop at ``1 / (1 + n)``, an exponential
    tail fitted to the top 10% of calibration scores (threshold ``u``, scale
    = their mean excess over ``u``) continues it:
    ``p = (1 + k_u) / (1 + n) * exp(-(s - u) / scale)``. A tail beyond the
    data is an extrapolation; it ranks clear outliers and lets p-values of
    many patches be combined, but its small values are estimates.

    Parameters
    ----------
    scores : np.ndarray of shape (n,)
    calibration : np.ndarray of shape (m,), sorted ascending

    Returns
    -------
    np.ndarray of shape (n,), in (0, 1]
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = calibration.size
    at_least = n - np.searchsorted(calibration, scores, side="left")
    p_values = (1.0 + at_least) / (1.0 + n)

    n_tail = max(int(np.ceil(TAIL_SHARE * n)), 5)
    beyond = scores > calibration[-1]
    if n < 20 or not beyond.any():
        return p_values
    threshold = calibration[n - n_tail]
    scale = float((calibration[n - n_tail :] - threshold).mean())
    if not scale > 0.0:
        return p_values
    tail_at_threshold = (1.0 + n_tail) / (1.0 + n)
    tail = tail_at_threshold * np.exp(-(scores[beyond] - threshold) / scale)
    p_values[beyond] = np.minimum(p_values[beyond], np.maximum(tail, np.finfo(np.float64).tiny))
    return p_values
