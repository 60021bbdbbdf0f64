"""Loading a registered model (default: the champion) and predicting raw tweets."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow.pyfunc
from mlflow.exceptions import MlflowException

from core.config import TrackingConfig
from core.errors import ModelNotFoundError
from core.pyfunc_model import to_texts
from core.registry import model_uri
from core.tracking import configure_tracking


@dataclass
class Prediction:
    """One tweet's prediction."""

    text: str
    label: str
    probability_negative: float


class Predictor:
    """A registered pyfunc model, loaded once.

    Args:
        config: tracking store and registered model name.
        alias: registry alias (default: the champion alias); ignored when ``version`` is set.
        version: a registered version number.
    """

    def __init__(self, config: TrackingConfig, alias: str | None = None, version: str | None = None) -> None:
        configure_tracking(config)
        self.uri = model_uri(config, alias, version)
        try:
            self.model = mlflow.pyfunc.load_model(self.uri)
        except MlflowException as exc:
            raise ModelNotFoundError(
                f"Cannot load {self.uri}: {exc.message.splitlines()[0].rstrip('.')}. "
                "Train one first: python -m core train --profile quick"
            ) from None

    def predict(self, texts: list[str] | str) -> list[Prediction]:
        """Predictions for raw tweets, in order."""
        texts = to_texts(texts)
        frame = self.model.predict(texts)
        return [
            Prediction(text, str(label), float(p))
            for text, label, p in zip(texts, frame["label"], frame["probability_negative"], strict=True)
        ]
