"""What an explanation is, and the one interface every explainer implements."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from core.models.classifier import SentimentClassifier

_EPS = 1e-7


def logit(p: float) -> float:
    """log(p / (1 - p)), with ``p`` clipped away from 0 and 1 so it stays finite."""
    p = min(max(float(p), _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class TokenWeight:
    """One token of the original text and its push: > 0 towards negative, < 0 towards positive.

    ``start``/``end`` are offsets in the original text (Python string indices, i.e. Unicode code points).
    """

    token: str
    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why one tweet got its label.

    Weights are in logit units of the model's P(negative): ``linear``: the exact share of each token
    in the model's logit, so ``base_value + sum(weights) == logit``. ``occlusion``: how much the
    logit drops when that token alone is removed (``base_value``: the logit with every token
    removed, ``None`` if the model cannot score an empty tweet). ``logit`` is the model's score
    before calibration; ``probability_negative`` and ``label`` are the served (calibrated) ones.
    """

    text: str
    label: str
    probability_negative: float
    method: str
    tokens: tuple[TokenWeight, ...]
    logit: float
    base_value: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (tokens as a list of dicts)."""
        out = asdict(self)
        out["tokens"] = [asdict(t) for t in self.tokens]
        return out

    def top(self, direction: str = "negative", k: int = 3) -> list[TokenWeight]:
        """The ``k`` tokens pushing hardest towards ``negative`` or ``positive`` (only those that push that way)."""
        sign = 1.0 if direction == "negative" else -1.0
        pushing = [t for t in self.tokens if sign * t.weight > 0]
        return sorted(pushing, key=lambda t: -sign * t.weight)[:k]


class Explainer(ABC):
    """Explains a :class:`core.models.classifier.SentimentClassifier`'s predictions on raw tweets."""

    method: ClassVar[str]

    def __init__(self, classifier: SentimentClassifier) -> None:
        self.classifier = classifier

    def explain(self, text: str) -> Explanation:
        """Explain one raw tweet."""
        return self.explain_many([text])[0]

    @abstractmethod
    def explain_many(self, texts: list[str]) -> list[Explanation]:
        """Explain raw tweets, in order (batched where the method allows)."""
