"""The MLflow pyfunc wrapper: ``load_model(uri).predict(raw_texts)`` -> label + P(negative)."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from core.errors import CoreError
from core.models.classifier import SentimentClassifier

ARTIFACT_KEY = "classifier"
_BASE_REQUIREMENTS = ("mlflow", "pandas", "numpy", "nltk")

SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string")]),
    outputs=Schema([ColSpec("string", "label"), ColSpec("double", "probability_negative")]),
)


def to_texts(model_input: Any) -> list[str]:
    """Accept a list/Series of strings, a single string, or a frame with a ``text`` column."""
    if isinstance(model_input, str):
        return [model_input]
    if isinstance(model_input, pd.DataFrame):
        column = "text" if "text" in model_input.columns else model_input.columns[0]
        return model_input[column].astype(str).tolist()
    if isinstance(model_input, pd.Series):
        return model_input.astype(str).tolist()
    if isinstance(model_input, dict) and "text" in model_input:
        return to_texts(model_input["text"])
    if isinstance(model_input, (list, tuple)):
        return [str(t) for t in model_input]
    raise CoreError(f"Cannot read tweets from input of type {type(model_input).__name__}.")


def pip_requirements(family_requirements: tuple[str, ...]) -> list[str]:
    """Pinned requirements of a logged model (only what inference needs)."""
    pinned = []
    for name in (*_BASE_REQUIREMENTS, *family_requirements):
        try:
            pinned.append(f"{name}=={metadata.version(name).split('+')[0]}")
        except metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


class SentimentPyfunc(mlflow.pyfunc.PythonModel):
    """Loads a :class:`core.models.classifier.SentimentClassifier` from the model's artifacts."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Read the saved classifier folder on the runtime named by ``model_config["runtime"]`` (default auto)."""
        runtime = (context.model_config or {}).get("runtime", "auto")
        self.classifier = SentimentClassifier.load(context.artifacts[ARTIFACT_KEY], runtime=runtime)

    # The model declares an explicit signature (see SIGNATURE); MLflow must not derive one from hints.
    _skip_type_hint_validation = True

    def predict(self, context, model_input, params=None):  # no hints: MLflow would derive a schema
        """Raw tweets in; a frame with ``label`` and ``probability_negative`` out, in order."""
        texts = to_texts(model_input)
        probabilities = self.classifier.predict_proba(texts)
        return pd.DataFrame({"label": self.classifier.labels(probabilities), "probability_negative": probabilities})
