"""Measure detection quality on labelled sets: confusion, flagged shares, ROC AUC, rates at fixed FPR.

ROC AUC, average precision and the rates at a fixed false-positive rate rank
samples by p-value, smallest first, with ties broken by the raw score. The
p-value is a non-increasing step function of the raw score, so this ranking
is the ranking by raw score, which is what the code uses. It avoids the ties
that the p-value floor of ``1 / (1 + n_calibration)`` creates among clear fakes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gandetect.errors import UsageError

CLASSES = ("real", "gan", "adversarial")
VERDICT_COLUMNS = ("real", "gan", "adversarial", "error")
FPR_TARGETS = (0.01, 0.05)


@dataclass
class SetScores:
    """Verdicts and scores of one labelled set."""

    path: str
    label: str
    verdicts: list[str] = field(default_factory=list)
    p_values: list[float] = field(default_factory=list)
    statistics: list[float] = field(default_factory=list)

    def add(self, result) -> None:
        """Record one result; patch results are left out, because their file's result counts."""
        if not result.counted:
            return
        if result.error:
            self.verdicts.append("error")
            return
        self.verdicts.append(result.verdict)
        self.p_values.append(result.p_value)
        self.statistics.append(result.statistic)

    def counts(self) -> dict[str, int]:
        return {column: self.verdicts.count(column) for column in VERDICT_COLUMNS}


def rate_at_fpr(real_scores: np.ndarray, fake_scores: np.ndarray, fpr: float) -> float:
    """Share of fakes scoring above the threshold that flags at most ``fpr`` of real samples.

    The threshold is the smallest real score such that the share of real
    scores strictly above it is at most ``fpr``; fakes must exceed it strictly.
    """
    real_sorted = np.sort(real_scores)
    n_real = real_sorted.size
    allowed = int(np.floor(fpr * n_real + 1e-9))
    threshold = real_sorted[n_real - allowed - 1] if allowed < n_real else -np.inf
    return float(np.mean(fake_scores > threshold))


def _separation(real: np.ndarray, fake: np.ndarray) -> dict[str, float | None]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if real.size == 0 or fake.size == 0:
        return {"roc_auc": None, "average_precision": None, **{f"detection_at_fpr_{t}": None for t in FPR_TARGETS}}
    labels = np.concatenate([np.zeros(real.size), np.ones(fake.size)])
    values = np.concatenate([real, fake])
    result: dict[str, float | None] = {
        "roc_auc": float(roc_auc_score(labels, values)),
        "average_precision": float(average_precision_score(labels, values)),
    }
    for target in FPR_TARGETS:
        result[f"detection_at_fpr_{target}"] = rate_at_fpr(real, fake, target)
    return result


def evaluate(sets: list[SetScores], *, level: float) -> dict[str, Any]:
    """Summarise labelled sets: per set, per class and overall.

    Parameters
    ----------
    sets : list of SetScores
        At least one set labelled ``real``, which defines the false-positive side.

    Returns
    -------
    dict
        ``sets``: per set, the verdict counts, the share flagged and, for
        fake sets, ROC AUC, average precision and detection rates at 1% and
        5% false-positive rate against all real sets pooled. ``classes``:
        the same per class, with the confusion row. ``overall``: every fake
        set pooled, and the measured false-positive rate at ``level``.
    """
    if not any(item.label == "real" for item in sets):
        raise UsageError("evaluation needs at least one --real set to measure false positives")

    per_set_scores = [np.asarray(item.statistics, dtype=np.float64) for item in sets]
    real_scores = np.concatenate([r for r, item in zip(per_set_scores, sets) if item.label == "real"])

    set_rows = []
    for item, item_scores in zip(sets, per_set_scores):
        row = _count_row(item.verdicts)
        row.update({"path": item.path, "label": item.label})
        if item.label != "real":
            row.update(_separation(real_scores, item_scores))
        set_rows.append(row)

    class_rows = {}
    for label in CLASSES:
        members = [i for i, item in enumerate(sets) if item.label == label]
        if not members:
            continue
        verdicts = [verdict for i in members for verdict in sets[i].verdicts]
        row = _count_row(verdicts)
        if label != "real":
            row.update(_separation(real_scores, np.concatenate([per_set_scores[i] for i in members])))
        class_rows[label] = row

    fake_scores_by_set = [r for r, item in zip(per_set_scores, sets) if item.label != "real"]
    overall = {
        "false_positive_rate": class_rows["real"]["flagged_share"],
        "level": level,
    }
    if fake_scores_by_set:
        fake_verdicts = [verdict for item in sets if item.label != "real" for verdict in item.verdicts]
        overall.update(_count_row(fake_verdicts))
        overall.update(_separation(real_scores, np.concatenate(fake_scores_by_set)))
    return {"level": level, "sets": set_rows, "classes": class_rows, "overall": overall}


def _count_row(verdicts: list[str]) -> dict[str, Any]:
    counts = {column: verdicts.count(column) for column in VERDICT_COLUMNS}
    scored = len(verdicts) - counts["error"]
    flagged = counts["gan"] + counts["adversarial"]
    return {
        "n": len(verdicts),
        "confusion": counts,
        "flagged_share": flagged / scored if scored else None,
        "adversarial_share_of_flagged": counts["adversarial"] / flagged if flagged else None,
    }


def collect(
    labelled_paths: Iterable[tuple[str, str | os.PathLike]],
    score_path,
) -> list[SetScores]:
    """Score every labelled path with ``score_path(path)``, an iterator of results."""
    sets = []
    for label, path in labelled_paths:
        if label not in CLASSES:
            raise UsageError(f"unknown label {label!r}; use one of {', '.join(CLASSES)}")
        item = SetScores(os.fsdecode(path), label)
        for result in score_path(path):
            item.add(result)
        sets.append(item)
    return sets
