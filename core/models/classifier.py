"""A servable classifier: preprocessing + one family's model + the decision threshold.

Everything inference needs is saved in one folder: ``classifier.json`` (family,
preprocessing variant, threshold, label names, the probability calibrator when there is one)
and ``model/`` (the family's own files). Folders saved before calibration existed load with
no calibrator (raw P(negative)).
The same object runs at training time and inside the MLflow pyfunc, so there is no
train/serve skew.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.loading import LABEL_NAMES, NEGATIVE
from core.data.preprocessing import Preprocessor
from core.errors import ModelNotFoundError
from core.evaluation.calibration import Calibrator
from core.models import load_scorer
from core.models.base import SentimentScorer

_META = "classifier.json"
_MODEL_DIR = "model"


@dataclass
class SentimentClassifier:
    """Raw tweets in, P(negative) and labels out."""

    preprocessor: Preprocessor
    model: SentimentScorer
    """A fitted family model (training) or any scorer of its saved folder (serving)."""
    threshold: float = 0.5
    calibrator: Calibrator | None = None
    """Maps the model's raw P(negative) to the calibrated one (fitted on validation); ``None``: raw."""

    @property
    def family(self) -> str:
        """The model family name."""
        return self.model.family

    def calibrate(self, raw_probabilities: np.ndarray) -> np.ndarray:
        """The calibrated P(negative) for the model's raw P(negative) (unchanged without a calibrator)."""
        if self.calibrator is None:
            return np.asarray(raw_probabilities, dtype=np.float64)
        return self.calibrator.transform(raw_probabilities)

    def predict_processed(self, processed_texts: list[str]) -> np.ndarray:
        """P(negative) (calibrated) per already preprocessed tweet."""
        return self.calibrate(self.model.predict_proba(processed_texts))

    def predict_proba(self, raw_texts: list[str]) -> np.ndarray:
        """P(negative) (calibrated when the classifier has a calibrator) per raw tweet."""
        return self.predict_processed(self.preprocessor.transform(raw_texts))

    def labels(self, probabilities: np.ndarray) -> list[str]:
        """``negative`` where P(negative) reaches the threshold, else ``positive``."""
        return [LABEL_NAMES[NEGATIVE] if p >= self.threshold else LABEL_NAMES[1 - NEGATIVE] for p in probabilities]

    def save(self, folder: Path) -> Path:
        """Write the classifier into ``folder`` (created); returns the folder."""
        folder = Path(folder)
        (folder / _MODEL_DIR).mkdir(parents=True, exist_ok=True)
        self.model.save(folder / _MODEL_DIR)
        meta = {
            "family": self.family,
            "preprocessing": self.preprocessor.to_dict(),
            "threshold": self.threshold,
            "labels": {"1": LABEL_NAMES[1], "0": LABEL_NAMES[0]},
            "probability": "P(negative)",
        }
        if self.calibrator is not None:
            meta["calibration"] = self.calibrator.to_dict()
        (folder / _META).write_text(json.dumps(meta, indent=2))
        return folder

    @property
    def runtime(self) -> str:
        """What computes the scores: ``native`` (the family's framework), ``onnx``, ``onnx_int8``, or ``mixed``
        (an ensemble whose members run on different ones)."""
        return self.model.runtime

    @classmethod
    def load(cls, folder: Path, runtime: str = "auto") -> SentimentClassifier:
        """Read a classifier written by :meth:`save`.

        Args:
            folder: the saved classifier.
            runtime: ``auto``, ``native`` or ``onnx`` (see :func:`core.models.load_scorer`).

        Raises:
            ModelNotFoundError: the folder is not a saved classifier (or has no ONNX export for ``onnx``).
        """
        folder = Path(folder)
        meta_path = folder / _META
        if not meta_path.exists():
            raise ModelNotFoundError(f"{folder} holds no saved classifier ({_META} is missing).")
        meta = json.loads(meta_path.read_text())
        model = load_scorer(meta["family"], folder / _MODEL_DIR, runtime)
        calibrator = Calibrator.from_dict(meta["calibration"]) if "calibration" in meta else None
        return cls(Preprocessor(meta["preprocessing"]["variant"]), model, float(meta["threshold"]), calibrator)


def folder_size_mb(folder: Path) -> float:
    """Total size of the files under ``folder`` in MB."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1e6
