"""Probability calibration, expected calibration error and the cost-derived decision threshold.

A model's P(negative) is often over- or under-confident. A :class:`Calibrator` is fitted on the
validation split only (never train, never test) and maps raw P(negative) to a calibrated one:

- ``temperature``: ``sigmoid(logit(p) / T)`` with one T minimising the validation log-loss. It is
  strictly monotonic, so ranking metrics (ROC AUC, PR AUC) do not change.
- ``isotonic``: a non-decreasing step function (scikit-learn's isotonic regression), more
  flexible, may tie scores (ROC AUC can move slightly).

The decision threshold can then follow from costs: predict negative when the expected cost of
missing a negative tweet exceeds the expected cost of a false alarm, i.e. when
``p * cost_missed_negative >= (1 - p) * cost_false_alarm`` -> ``t = c_fa / (c_fa + c_miss)``.
That rule is only right on calibrated probabilities, hence both live here.

A calibrator is saved as plain JSON inside the classifier folder (``classifier.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit

from core.config import CALIBRATION_METHODS, CalibrationConfig
from core.errors import ConfigError
from core.evaluation.metrics import choose_threshold

_EPS = 1e-6


def _clipped_logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS))


@dataclass
class Calibrator:
    """Maps raw P(negative) to calibrated P(negative).

    Attributes:
        method: ``none``, ``temperature`` or ``isotonic``.
        temperature: the fitted T (``temperature`` only).
        x, y: the isotonic step function's knots (``isotonic`` only), applied by linear interpolation
            and clipped at the ends, as scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` does.
    """

    method: str = "none"
    temperature: float = 1.0
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.method not in CALIBRATION_METHODS:
            raise ConfigError(
                f"Unknown calibration method '{self.method}': choose from {', '.join(CALIBRATION_METHODS)}."
            )

    @classmethod
    def fit(cls, method: str, y_true: np.ndarray, p_negative: np.ndarray) -> Calibrator:
        """Fit a calibrator of ``method`` on (validation) labels and raw P(negative).

        Args:
            method: one of :data:`CALIBRATION_METHODS`.
            y_true: 1 = negative, 0 = positive.
            p_negative: the model's raw P(negative) for the same tweets.
        """
        y_true = np.asarray(y_true, dtype=np.float64)
        p_negative = np.asarray(p_negative, dtype=np.float64)
        if method == "temperature":
            z = _clipped_logit(p_negative)

            def nll(log_t: float) -> float:
                q = np.clip(expit(z / np.exp(log_t)), _EPS, 1 - _EPS)
                return float(-np.mean(y_true * np.log(q) + (1 - y_true) * np.log(1 - q)))

            best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
            return cls("temperature", temperature=float(np.exp(best.x)))
        if method == "isotonic":
            from sklearn.isotonic import IsotonicRegression  # lazy: only the isotonic method needs it

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p_negative, y_true)
            return cls("isotonic", x=iso.X_thresholds_.tolist(), y=iso.y_thresholds_.tolist())
        return cls(method)

    def transform(self, p_negative: np.ndarray) -> np.ndarray:
        """Calibrated P(negative) for raw P(negative) (float64, same shape)."""
        p = np.asarray(p_negative, dtype=np.float64)
        if self.method == "temperature":
            return expit(_clipped_logit(p) / self.temperature)
        if self.method == "isotonic" and self.x:
            return np.interp(p, self.x, self.y)
        return p

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (what :meth:`from_dict` reads)."""
        out: dict[str, Any] = {"method": self.method}
        if self.method == "temperature":
            out["temperature"] = self.temperature
        if self.method == "isotonic":
            out.update(x=self.x, y=self.y)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild a calibrator written by :meth:`to_dict`."""
        return cls(
            data.get("method", "none"),
            float(data.get("temperature", 1.0)),
            list(data.get("x", [])),
            list(data.get("y", [])),
        )


def expected_calibration_error(y_true: np.ndarray, p_negative: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of P(negative): the share-weighted gap between the mean predicted
    P(negative) and the observed rate of negative tweets over ``n_bins`` equal-width bins.

    Args:
        y_true: 1 = negative, 0 = positive.
        p_negative: predicted P(negative).
        n_bins: number of equal-width probability bins on [0, 1].

    Returns:
        The ECE in [0, 1] (0 = perfectly calibrated); ``nan`` for no tweets.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(p_negative, dtype=np.float64)
    if len(p) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        mask = bins == b
        ece += mask.mean() * abs(p[mask].mean() - y_true[mask].mean())
    return float(ece)


def cost_threshold(cost_missed_negative: float, cost_false_alarm: float) -> float:
    """The Bayes-optimal threshold on a *calibrated* P(negative) for the given costs.

    Predicting negative costs ``(1 - p) * cost_false_alarm`` in expectation, predicting positive
    costs ``p * cost_missed_negative``; negative is the cheaper call from
    ``p >= c_fa / (c_fa + c_miss)`` on.
    """
    if cost_missed_negative <= 0 or cost_false_alarm <= 0:
        raise ConfigError("Calibration costs must be positive.")
    return float(cost_false_alarm / (cost_false_alarm + cost_missed_negative))


def expected_cost(
    y_true: np.ndarray, p_negative: np.ndarray, threshold: float, cost_missed_negative: float, cost_false_alarm: float
) -> float:
    """Average cost per tweet of the decisions ``p >= threshold`` (missed negatives and false alarms)."""
    y_true = np.asarray(y_true)
    predicted = np.asarray(p_negative) >= threshold
    missed = np.sum((y_true == 1) & ~predicted)
    false_alarms = np.sum((y_true == 0) & predicted)
    return float((missed * cost_missed_negative + false_alarms * cost_false_alarm) / max(1, len(y_true)))


def calibrate_and_threshold(
    config: CalibrationConfig, threshold_metric: str, y_val: np.ndarray, raw_val: np.ndarray
) -> tuple[Calibrator | None, float]:
    """Fit the configured calibrator on validation and derive the decision threshold.

    Args:
        config: the calibration settings.
        threshold_metric: the metric the ``metric`` rule maximises on validation.
        y_val: validation labels (1 = negative).
        raw_val: the model's raw P(negative) on validation.

    Returns:
        The calibrator (``None`` for method ``none``) and the threshold on the calibrated P(negative).
    """
    calibrator = None if config.method == "none" else Calibrator.fit(config.method, y_val, raw_val)
    calibrated = calibrator.transform(raw_val) if calibrator is not None else np.asarray(raw_val, dtype=np.float64)
    if config.threshold_rule == "cost":
        return calibrator, cost_threshold(config.cost_missed_negative, config.cost_false_alarm)
    return calibrator, choose_threshold(y_val, calibrated, threshold_metric)
