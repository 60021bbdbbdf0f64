"""Loading a registered model (default: the champion) and predicting raw tweets."""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import mlflow.pyfunc
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import TrackingConfig
from core.errors import CoreError, ModelNotFoundError
from core.explanations import Explainer, Explanation, explainer_for
from core.models.classifier import SentimentClassifier
from core.tracking.pyfunc_model import to_texts
from core.tracking.registry import model_uri
from core.tracking.setup import configure_tracking

logger = logging.getLogger(__name__)


@dataclass
class Prediction:
    """One tweet's prediction."""

    text: str
    label: str
    probability_negative: float


@dataclass(frozen=True)
class ModelInfo:
    """What a served model is: registry identity and the facts of the run that trained it."""

    name: str
    version: str
    run_id: str | None = None
    family: str | None = None
    preprocessing: str | None = None
    threshold: float | None = None
    selection_metric: str | None = None
    """Name of the metric the champion was selected on (e.g. ``roc_auc``)."""
    selection_part: str | None = None
    """Where that metric was read: ``human_select`` (human-labelled tweets) or ``val``."""
    selection_value: float | None = None
    """Its value for this model on that part."""
    trained_at: str | None = None
    """ISO 8601 UTC start time of the training run."""
    runtime: str | None = None
    """What computes the scores in this process: ``native`` or ``onnx``."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


def _iso(ms: int | None) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat() if ms else None


def model_info(client: MlflowClient, name: str, version: str) -> ModelInfo:
    """Registry and run facts of one model version (fields the store lacks are ``None``).

    Args:
        client: an MLflow client on the store that holds the model.
        name: registered model name.
        version: version number.
    """
    try:
        mv = client.get_model_version(name, version)
        run = client.get_run(mv.run_id)
    except MlflowException as exc:
        logger.warning("No run facts for %s v%s: %s", name, version, exc.message.splitlines()[0])
        return ModelInfo(name, str(version))
    params, metrics = run.data.params, run.data.metrics
    metric = params.get("evaluation.selection_metric")
    part = params.get("evaluation.selection_part", "val")  # runs from before the human yardstick: val
    value = metrics.get(f"{part}_{metric}") if metric else None
    value = metrics.get("selection_score") if value is None else value
    return ModelInfo(
        name=name,
        version=str(version),
        run_id=mv.run_id,
        family=mv.tags.get("family", params.get("family")),
        preprocessing=mv.tags.get("preprocessing", params.get("preprocessing")),
        threshold=metrics.get("threshold"),
        selection_metric=metric,
        selection_part=part,
        selection_value=value,
        trained_at=_iso(run.info.start_time),
    )


PROBE_TEXT = "the flight was late but the crew was great"
"""Scored once at load: a model that cannot score it is never served."""


def _type_name(column) -> str:
    return getattr(column.type, "name", str(column.type))


def check_serveable(model: mlflow.pyfunc.PyFuncModel, uri: str) -> None:
    """Refuse a loaded model this product cannot serve: the signature must take one string column and
    give ``label`` and ``probability_negative``, and a probe tweet must score to a label and a probability.

    Raises:
        ModelNotFoundError: the model is incompatible (the reason is in the message).
    """
    signature = model.metadata.signature
    inputs = [(c.name, _type_name(c)) for c in signature.inputs.inputs] if signature and signature.inputs else []
    outputs = {c.name: _type_name(c) for c in signature.outputs.inputs} if signature and signature.outputs else {}
    if len(inputs) != 1 or inputs[0][1] != "string":
        raise ModelNotFoundError(f"{uri} is not a tweet sentiment model: its signature takes {inputs or 'nothing'}.")
    if outputs.get("label") != "string" or outputs.get("probability_negative") != "double":
        raise ModelNotFoundError(
            f"{uri} is not a tweet sentiment model: its signature gives {outputs or 'nothing'}, "
            "not 'label' and 'probability_negative'."
        )
    try:
        frame = model.predict([PROBE_TEXT])
        label, probability = str(frame["label"].iloc[0]), float(frame["probability_negative"].iloc[0])
    except Exception as exc:
        raise ModelNotFoundError(f"{uri} fails to score a probe tweet ({type(exc).__name__}).") from None
    if label not in ("negative", "positive") or not 0.0 <= probability <= 1.0:
        raise ModelNotFoundError(f"{uri} scores a probe tweet as {label!r} with P(negative)={probability}.")


class Predictor:
    """A registered pyfunc model, loaded once.

    An alias is resolved to its version first and that exact version is loaded, so
    :attr:`version` and :attr:`info` describe the loaded weights even if the alias moves.

    Args:
        config: tracking store and registered model name.
        alias: registry alias (default: the champion alias); ignored when ``version`` is set.
        version: a registered version number.
        runtime: ``auto`` (ONNX Runtime on the fastest export, int8 first, else its own framework),
            ``native`` or ``onnx`` (see :func:`core.models.load_scorer`).

    Raises:
        ModelNotFoundError: the alias is unset, the version does not exist, or it cannot be loaded, or it is
            not a sentiment model this product can serve (see :func:`check_serveable`).
    """

    def __init__(
        self,
        config: TrackingConfig,
        alias: str | None = None,
        version: str | None = None,
        runtime: str = "auto",
    ) -> None:
        tracking_uri = configure_tracking(config)
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self.uri = model_uri(config, alias, version)
        if not version:
            try:
                version = str(
                    client.get_model_version_by_alias(config.registered_model, alias or config.champion_alias).version
                )
            except MlflowException:
                version = None  # loading the alias URI below raises the registry's own explanation
        load_uri = model_uri(config, version=version) if version else self.uri
        try:
            self.model = mlflow.pyfunc.load_model(load_uri, model_config={"runtime": runtime})
        except MlflowException as exc:
            raise ModelNotFoundError(
                f"Cannot load {self.uri}: {exc.message.splitlines()[0].rstrip('.')}. "
                "Train one first: python -m core train --profile quick"
            ) from None
        except CoreError as exc:  # the model's own loader explained the problem (e.g. no ONNX export)
            raise ModelNotFoundError(f"Cannot load {load_uri}: {exc}") from None
        except ModuleNotFoundError as exc:  # a framework this environment (e.g. the API image) lacks
            raise ModelNotFoundError(
                f"Cannot load {load_uri}: it needs the Python module '{exc.name}', which this environment does not "
                f"install. Promote a version this image serves (python -m core compare: api_image_servable), "
                f"serve it on another runtime (API_MODEL_RUNTIME), or install '{exc.name}' here."
            ) from None
        except Exception as exc:  # a truncated or corrupt artifact fails inside the model's own loader
            logger.warning("Loading %s failed: %s: %s", load_uri, type(exc).__name__, exc)
            raise ModelNotFoundError(
                f"Cannot load {load_uri}: its files are corrupt or incomplete ({type(exc).__name__})."
            ) from None
        check_serveable(self.model, load_uri)
        self.version = str(version)
        served_by = getattr(self.model.unwrap_python_model(), "classifier", None)
        self.info = dataclasses.replace(
            model_info(client, config.registered_model, self.version),
            runtime=served_by.runtime if served_by is not None else None,
        )

    @property
    def classifier(self) -> SentimentClassifier:
        """The loaded classifier (preprocessing, scorer, threshold) behind the pyfunc."""
        return self.model.unwrap_python_model().classifier

    def explain(self, text: str) -> Explanation:
        """Which words of one raw tweet pushed it towards negative or positive (see :mod:`core.explanations`).

        Exact contributions for the TF-IDF family, occlusion through the served scorer for the others.
        """
        return self._explainer.explain(text)

    @functools.cached_property
    def _explainer(self) -> Explainer:
        return explainer_for(self.classifier)

    def predict(self, texts: list[str] | str) -> list[Prediction]:
        """Predictions for raw tweets, in order.

        Scores through the loaded classifier itself, which is what the pyfunc's ``predict`` calls:
        its input schema was checked once at load (:func:`check_serveable`), and MLflow's per-call
        schema enforcement would add about a millisecond to every request.
        """
        texts = to_texts(texts)
        classifier = getattr(self.model.unwrap_python_model(), "classifier", None)
        if classifier is None:  # another pyfunc with the same signature: through MLflow
            frame = self.model.predict(texts)
            labels, probabilities = list(frame["label"]), list(frame["probability_negative"])
        else:
            probabilities = classifier.predict_proba(texts)
            labels = classifier.labels(probabilities)
        return [Prediction(t, str(label), float(p)) for t, label, p in zip(texts, labels, probabilities, strict=True)]
