"""Metrics, threshold choice and timing. "Positive class" for every metric is *negative* sentiment.

The selection metric is the F1 score of the negative class (see the README): the airline
must catch negative tweets (recall) without drowning in false alarms (precision).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

_THRESHOLD_GRID = np.round(np.linspace(0.05, 0.95, 181), 4)


def _score(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if metric == "f1_negative":
        return f1_score(y_true, y_pred, pos_label=1, zero_division=0)
    if metric == "f1_macro":
        return f1_score(y_true, y_pred, average="macro", zero_division=0)
    return accuracy_score(y_true, y_pred)


def choose_threshold(y_true: np.ndarray, p_negative: np.ndarray, metric: str = "f1_negative") -> float:
    """The threshold on P(negative) that maximises ``metric`` on the given (validation) data.

    Ties go to the threshold closest to 0.5, so a flat optimum stays near the natural cut.
    """
    y_true = np.asarray(y_true)
    scores = np.array([_score(metric, y_true, (p_negative >= t).astype(int)) for t in _THRESHOLD_GRID])
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(_THRESHOLD_GRID[best[np.argmin(np.abs(_THRESHOLD_GRID[best] - 0.5))]])


def compute_metrics(y_true: np.ndarray, p_negative: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, F1/precision/recall of the negative class, macro F1, ROC AUC and PR AUC.

    Args:
        y_true: 1 = negative, 0 = positive.
        p_negative: predicted P(negative).
        threshold: decision threshold on P(negative).
    """
    y_true = np.asarray(y_true)
    y_pred = (np.asarray(p_negative) >= threshold).astype(int)
    both_classes = len(np.unique(y_true)) == 2
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "f1_negative": f1_score(y_true, y_pred, pos_label=1, zero_division=0),
        "precision_negative": precision_score(y_true, y_pred, pos_label=1, zero_division=0),
        "recall_negative": recall_score(y_true, y_pred, pos_label=1, zero_division=0),
        "f1_macro": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "roc_auc": roc_auc_score(y_true, p_negative) if both_classes else float("nan"),
        "pr_auc": average_precision_score(y_true, p_negative) if both_classes else float("nan"),
    }


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    """Run ``fn`` and return its result and the seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start
