"""A run's behaviour on its test split: ROC and precision-recall curves, confusion matrix,
and the tweets it gets most wrong.

Training logs the test split's P(negative) of every run as a small artifact
(:data:`TEST_PREDICTIONS`), so these views need neither the model nor a new split.
The positive class of every curve is *negative* sentiment (label 1), as for every metric.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from core.data.loading import LABEL_NAMES

TEST_PREDICTIONS = "evaluation/test_predictions.parquet"
"""Artifact path of a run's test predictions: columns ``text``, ``label`` (1 = negative),
``p_negative`` and ``threshold``."""


def log_test_predictions(test: pd.DataFrame, p_negative: np.ndarray, threshold: float) -> None:
    """Log the raw test tweets, their labels and P(negative) as an artifact of the active run."""
    frame = pd.DataFrame(
        {
            "text": test["text"].to_numpy(),
            "label": test["label"].to_numpy().astype(int),
            "p_negative": np.asarray(p_negative, dtype=np.float64),
            "threshold": float(threshold),
        }
    )
    folder, name = TEST_PREDICTIONS.rsplit("/", 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=folder)


def load_test_predictions(run_id: str) -> pd.DataFrame | None:
    """The test predictions logged by a run, or ``None`` when it has none (an older run)."""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=TEST_PREDICTIONS, dst_path=tmp)
            return pd.read_parquet(path)
    except (MlflowException, OSError):
        return None


@dataclass
class Curves:
    """ROC and precision-recall curve points of one run on its test split."""

    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray


def curves(predictions: pd.DataFrame) -> Curves:
    """ROC (false/true positive rate) and precision-recall points; positive class = negative tweets."""
    from sklearn.metrics import precision_recall_curve, roc_curve  # here: the console's other pages skip sklearn

    fpr, tpr, _ = roc_curve(predictions["label"], predictions["p_negative"], pos_label=1)
    precision, recall, _ = precision_recall_curve(predictions["label"], predictions["p_negative"], pos_label=1)
    return Curves(fpr, tpr, precision, recall)


def confusion(predictions: pd.DataFrame) -> pd.DataFrame:
    """Counts of (true label, predicted label) at the run's own threshold, labelled by name.

    Rows are the true class, columns the predicted one, ``negative`` first.
    """
    from sklearn.metrics import confusion_matrix  # lazy, as above

    predicted = (predictions["p_negative"] >= predictions["threshold"]).astype(int)
    matrix = confusion_matrix(predictions["label"], predicted, labels=[1, 0])
    names = [LABEL_NAMES[1], LABEL_NAMES[0]]
    return pd.DataFrame(matrix, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted"))


def worst_errors(predictions: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` misclassified test tweets the run was most confident about, worst first.

    Returns columns ``text``, ``true``, ``predicted``, ``p_negative``.
    """
    predicted = (predictions["p_negative"] >= predictions["threshold"]).astype(int)
    wrong = predictions[predicted != predictions["label"]].copy()
    wrong["error"] = (wrong["p_negative"] - wrong["label"]).abs()
    wrong = wrong.sort_values("error", ascending=False).head(n)
    return pd.DataFrame(
        {
            "text": wrong["text"],
            "true": wrong["label"].map(LABEL_NAMES),
            "predicted": (1 - wrong["label"]).map(LABEL_NAMES),
            "p_negative": wrong["p_negative"].round(4),
        }
    ).reset_index(drop=True)
