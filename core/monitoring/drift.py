"""Population stability index (PSI) of served traffic against the validation data.

PSI compares two distributions binned the same way: ``sum((a - e) * ln(a / e))`` over the bins,
with ``e`` the reference shares and ``a`` the observed shares. The usual reading, used here:
below 0.1 stable, 0.1 to 0.25 a moderate shift worth a look (``warning``), 0.25 and above a major
shift (``alert``). Prediction scores are binned on ten equal-width bins of [0, 1]; text lengths
on the reference's deciles, so each reference bin holds about a tenth of the tweets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from core.config import PipelineConfig
from core.data.prepared import prepare_data
from core.serving.predictor import Predictor
from core.tracking.champion import config_like_champion

logger = logging.getLogger(__name__)

PSI_WARNING = 0.1
PSI_ALERT = 0.25
MIN_COUNT = 100
"""Fewer observations than this in a period: PSI is not computed (too noisy to read)."""
_EPSILON = 1e-4  # share given to an empty bin, so the logarithm stays finite
SCORE_EDGES = np.linspace(0.0, 1.0, 11)


def psi(expected: np.ndarray, actual: np.ndarray, edges: np.ndarray) -> float:
    """Population stability index of ``actual`` against ``expected`` on the bins ``edges``.

    Args:
        expected: reference sample (e.g. validation scores).
        actual: observed sample (e.g. one week of served scores).
        edges: increasing bin edges; values outside them are clipped into the end bins.

    Returns:
        The PSI (0 for identical binned distributions).
    """
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    inner = np.asarray(edges, dtype=float)[1:-1]
    e = np.bincount(np.searchsorted(inner, expected, side="right"), minlength=len(inner) + 1) / len(expected)
    a = np.bincount(np.searchsorted(inner, actual, side="right"), minlength=len(inner) + 1) / len(actual)
    e, a = np.clip(e, _EPSILON, None), np.clip(a, _EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_edges(reference: np.ndarray, bins: int = 10) -> np.ndarray:
    """Bin edges at the reference's quantiles (open-ended: the first and last bins catch everything)."""
    inner = np.unique(np.quantile(np.asarray(reference, dtype=float), np.linspace(0, 1, bins + 1)[1:-1]))
    return np.concatenate([[-np.inf], inner, [np.inf]])


def psi_level(value: float, warning: float = PSI_WARNING, alert: float = PSI_ALERT) -> str:
    """``stable``, ``warning`` or ``alert`` (``n/a`` when PSI could not be computed)."""
    if value is None or np.isnan(value):
        return "n/a"
    return "alert" if value >= alert else "warning" if value >= warning else "stable"


@dataclass(frozen=True)
class Reference:
    """What served traffic is compared with: the champion's scores and the tweet lengths on validation."""

    scores: np.ndarray
    lengths: np.ndarray
    source: str

    @property
    def length_edges(self) -> np.ndarray:
        """Decile edges of the reference text lengths."""
        return quantile_edges(self.lengths)

    def score_psi(self, scores: np.ndarray) -> float:
        """PSI of served P(negative) against the reference scores."""
        return psi(self.scores, scores, SCORE_EDGES)

    def length_psi(self, lengths: np.ndarray) -> float:
        """PSI of served text lengths against the reference lengths."""
        return psi(self.lengths, lengths, self.length_edges)


def reference_from_champion(config: PipelineConfig) -> Reference:
    """Score the champion's own validation split with the champion, as served.

    The split is rebuilt from the champion run's data and split parameters, so it is the exact
    validation set the champion's threshold was chosen on.

    Raises:
        ModelNotFoundError: no champion yet.
        DataError: the champion's data file is missing.
    """
    config = config_like_champion(config)
    predictor = Predictor(config.tracking)
    val = prepare_data(config).split.val
    texts = val["text"].tolist()
    scores = np.array([p.probability_negative for p in predictor.predict(texts)])
    lengths = np.array([len(t) for t in texts])
    source = f"validation split of {predictor.info.name} v{predictor.version} ({len(texts)} tweets)"
    logger.info("Drift reference: %s", source)
    return Reference(scores, lengths, source)
