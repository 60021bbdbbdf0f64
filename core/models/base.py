"""The one interface every model family implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

LEARNING_CURVE_METRICS = ("train_loss", "val_loss")
"""The metrics a neural family logs at each step of its learning curve (:func:`log_learning_curve`)."""


def log_learning_curve(step: int, train_loss: float, val_loss: float) -> None:
    """Log one point of a learning curve into the active MLflow run: ``train_loss`` (mean training loss
    since the previous point) and ``val_loss``, both at ``step`` (an epoch, or an optimizer step).

    A no-op without an active run: a family also fits in tests and scripts that track nothing (and
    ``mlflow.log_metrics`` would otherwise start a run of its own).
    """
    import mlflow  # here, not at the top: loading a model for serving never needs it

    if mlflow.active_run() is None:
        return
    mlflow.log_metrics({"train_loss": float(train_loss), "val_loss": float(val_loss)}, step=step)


class SentimentScorer(ABC):
    """What serving needs of a model: P(negative) for preprocessed texts, loaded from a folder.

    Every :class:`SentimentModel` is a scorer; a family may also ship an inference-only scorer
    over the same saved folder (e.g. the BERT family's ONNX Runtime path), which serving picks
    without importing the training framework.
    """

    family: ClassVar[str]
    runtime: ClassVar[str] = "native"
    """What computes the scores: the family's own framework, or e.g. ``onnx``."""
    requirements: ClassVar[tuple[str, ...]] = ()
    """Distribution names this scorer needs to load and predict (a family's are pinned into its MLflow
    model; a serving scorer's say what the API image must install)."""

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """P(negative) for each text, shape (n,), float64 in [0, 1]; no texts give an empty array.

        Raises:
            RuntimeError: the model was neither fitted nor loaded.
        """
        if not self.is_fitted():
            raise RuntimeError(f"{type(self).__name__}.predict_proba called before fit or load.")
        texts = list(texts)
        if not texts:
            return np.zeros(0, dtype=np.float64)
        return np.asarray(self._predict_proba(texts), dtype=np.float64).reshape(-1)

    @abstractmethod
    def is_fitted(self) -> bool:
        """Whether the model holds fitted (or loaded) weights."""

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """P(negative) for a non-empty list of texts, on a fitted model."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path) -> SentimentScorer:
        """Rebuild a fitted model from ``folder``."""


class SentimentModel(SentimentScorer):
    """A model family: fit on preprocessed texts and labels, predict P(negative), save/load.

    Texts reaching a family are already cleaned and preprocessed (see
    :class:`core.models.classifier.SentimentClassifier`); labels are 1 = negative, 0 = positive.

    Args:
        config: the family's config dataclass (from :mod:`core.config`).
        seed: random seed for everything the family draws.
        cache_dir: a folder for derived data worth keeping between runs (e.g. embeddings),
            keyed by what produced it; ``None`` disables caching.
    """

    def __init__(self, config: Any, seed: int = 42, cache_dir: Path | None = None) -> None:
        self.config = config
        self.seed = seed
        self.cache_dir = cache_dir

    @abstractmethod
    def fit(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        val_texts: list[str],
        val_labels: np.ndarray,
    ) -> dict[str, float]:
        """Fit on train; validation is only for early stopping, never for fitting weights.

        A family trained by epochs or steps reports its learning curve with :func:`log_learning_curve`.

        Returns:
            Training facts worth logging (e.g. epochs run, vocabulary size).
        """

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write everything inference needs into ``folder`` (created by the caller)."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path) -> SentimentModel:
        """Rebuild a fitted model from ``folder``."""
