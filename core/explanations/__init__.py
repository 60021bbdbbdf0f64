"""Why a model labels a tweet as it does: per-tweet token weights and global drivers.

One interface (:class:`Explainer`) with two methods: exact contributions for the linear
TF-IDF family (:class:`LinearExplainer`) and occlusion for every other family and runtime
(:class:`OcclusionExplainer`). :func:`explainer_for` picks the right one; the global view and
the date/airline leak check live in :mod:`core.explanations.drivers`.
"""

from __future__ import annotations

from core.explanations.base import Explainer, Explanation, TokenWeight
from core.explanations.linear import LinearExplainer, is_linear
from core.explanations.occlusion import OcclusionExplainer
from core.models.classifier import SentimentClassifier

__all__ = [
    "Explainer",
    "Explanation",
    "LinearExplainer",
    "OcclusionExplainer",
    "TokenWeight",
    "explain",
    "explainer_for",
]


def explainer_for(classifier: SentimentClassifier, method: str = "auto") -> Explainer:
    """The explainer of a classifier.

    Args:
        classifier: any loaded or freshly trained classifier.
        method: ``auto`` (exact for the linear family, occlusion otherwise), ``linear`` or ``occlusion``.

    Raises:
        ValueError: ``linear`` asked of a model that is not linear, or an unknown method.
    """
    if method == "auto":
        method = "linear" if is_linear(classifier) else "occlusion"
    if method == "linear":
        return LinearExplainer(classifier)
    if method == "occlusion":
        return OcclusionExplainer(classifier)
    raise ValueError(f"Unknown explanation method '{method}': choose auto, linear or occlusion.")


def explain(classifier: SentimentClassifier, text: str, method: str = "auto") -> Explanation:
    """Explain one raw tweet with :func:`explainer_for`'s explainer."""
    return explainer_for(classifier, method).explain(text)
