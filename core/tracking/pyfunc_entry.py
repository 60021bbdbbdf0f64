"""MLflow "models from code" entry point: MLflow runs this file when it loads a logged model.

Kept apart from :mod:`core.tracking.pyfunc_model` so that importing the wrapper has no side effect.
"""

from mlflow.models import set_model

from core.tracking.pyfunc_model import SentimentPyfunc

set_model(SentimentPyfunc())
