"""How a label follows from P(negative) and the model's threshold, worded for the page.

"negative — 41%" reads as a contradiction when the threshold is below 0.5; the page says instead
"negative · P(negative) 0.41 ≥ threshold 0.35", with as many decimals as it takes for the shown
numbers to agree with the comparison sign (0.349 < 0.350, never 0.35 < 0.35).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from client_app.api_client import Prediction

logger = logging.getLogger(__name__)

MIN_DECIMALS = 2
MAX_DECIMALS = 6


@dataclass(frozen=True)
class Decision:
    """The shown numbers of one prediction."""

    label: str
    probability_negative: str
    """P(negative), formatted."""
    relation: str | None = None
    """``≥`` (so "negative") or ``<`` (so "positive"); ``None`` when the threshold is not shown."""
    threshold: str | None = None
    """The threshold, formatted; ``None`` when the API did not give one or it contradicts the label."""


def decision(prediction: Prediction) -> Decision:
    """The label, P(negative) and, when it explains the label, the threshold, formatted alike.

    Args:
        prediction: the API's answer.

    Returns:
        The strings to show; no threshold if it is unknown or would contradict the label (logged: the
        API's ``/model`` and its predictions disagree).
    """
    p, threshold = prediction.probability_negative, prediction.threshold
    if threshold is None:
        return Decision(prediction.label, f"{p:.{MIN_DECIMALS}f}")
    if (p >= threshold) != (prediction.label == "negative"):
        logger.warning(
            "Threshold %s of %s v%s does not explain label %s at P(negative) %s; not shown.",
            threshold,
            prediction.model_name,
            prediction.model_version,
            prediction.label,
            p,
        )
        return Decision(prediction.label, f"{p:.{MIN_DECIMALS}f}")
    decimals = MIN_DECIMALS
    while decimals < MAX_DECIMALS and p < threshold and f"{p:.{decimals}f}" == f"{threshold:.{decimals}f}":
        decimals += 1
    return Decision(prediction.label, f"{p:.{decimals}f}", "≥" if p >= threshold else "<", f"{threshold:.{decimals}f}")
