"""The HTTP routes: validate the request, call the served :class:`Predictor`, shape the answer."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel

from api import schemas
from api.errors import ApiError
from api.model_holder import ModelHolder
from api.security import key_matches
from api.settings import ApiSettings
from api.validation import explain_request, feedback_request, json_object, predict_request
from core.monitoring.event_store import EventStore
from core.monitoring.events import EventMonitor
from core.serving.predictor import Predictor

logger = logging.getLogger(__name__)

bp = Blueprint("sentiment", __name__)


@dataclass
class ApiState:
    """What one app instance serves with."""

    settings: ApiSettings
    holder: ModelHolder
    store: EventStore
    events: EventMonitor
    openapi: dict[str, Any]
    """The OpenAPI document, generated at start with these settings' limits."""


def state() -> ApiState:
    """The current app's :class:`ApiState`."""
    return current_app.extensions["sentiment_api"]


def require_api_key() -> None:
    """Refuse the request unless ``X-API-Key`` matches the configured key.

    Raises:
        ApiError: 401.
    """
    if not key_matches(request.headers.get("X-API-Key"), state().settings.api_key):
        raise ApiError(401, "A valid API key is required in the X-API-Key header.")


def _model_ref(predictor: Predictor) -> schemas.ModelRef:
    return schemas.ModelRef(name=predictor.info.name, version=predictor.version)


def answer(body: BaseModel, status: int = 200) -> tuple[Response, int]:
    """``body`` as JSON: every answer is one of the models the OpenAPI document is generated from."""
    return jsonify(body.model_dump()), status


@bp.get("/health")
def health():
    """Liveness: the process answers."""
    return answer(schemas.Health(status="ok"))


@bp.get("/ready")
def ready():
    """Readiness: 200 with the model once loaded, else 503 with the reason."""
    error = state().holder.error
    if error:
        return answer(schemas.Error(error=f"No model is loaded: {error}"), 503)
    return answer(schemas.Ready(status="ready", model=_model_ref(state().holder.current())))


@bp.post("/predict")
def predict():
    """Score one tweet (``text``) or a batch (``texts``); each prediction's event is queued for the
    store (off the request path: a slow or failing store never delays or fails the answer)."""
    settings = state().settings
    parsed = predict_request(json_object(request), settings.max_text_length, settings.max_batch_size)
    predictor = state().holder.current()  # one model for the whole request, even if a reload happens
    start = time.perf_counter()
    predictions = predictor.predict(parsed.texts)
    latency_ms = (time.perf_counter() - start) * 1000
    records = state().events.record_predictions(
        [(p.text, p.label, p.probability_negative) for p in predictions],
        predictor.info.name,
        predictor.version,
        latency_ms,
    )
    model = _model_ref(predictor)
    answers = [
        schemas.Prediction(label=r.label, probability_negative=r.probability_negative, model=model, prediction_id=r.id)
        for r in records
    ]
    return answer(answers[0] if parsed.single else schemas.PredictionBatch(predictions=answers))


@bp.post("/explain")
def explain():
    """Explain one tweet (``text``, validated as ``/predict`` validates it): its label, and each word's
    push towards negative (> 0) or positive (< 0) in logit units, with its offsets in the text."""
    text = explain_request(json_object(request), state().settings.max_text_length)
    predictor = state().holder.current()
    explanation = predictor.explain(text)
    return answer(
        schemas.Explanation(
            label=explanation.label,
            probability_negative=explanation.probability_negative,
            model=_model_ref(predictor),
            method=explanation.method,
            tokens=[
                schemas.TokenWeight(token=t.token, start=t.start, end=t.end, weight=t.weight)
                for t in explanation.tokens
            ],
            logit=explanation.logit,
            base_value=explanation.base_value,
        )
    )


@bp.get("/model")
def model():
    """The served model: registry identity and the facts of its training run."""
    info = state().holder.current().info
    return answer(
        schemas.ModelInfo(
            name=info.name,
            version=info.version,
            run_id=info.run_id,
            family=info.family,
            preprocessing=info.preprocessing,
            threshold=info.threshold,
            metric=schemas.SelectionMetric(
                name=info.selection_metric, split=info.selection_part or "val", value=info.selection_value
            ),
            trained_at=info.trained_at,
            runtime=info.runtime,
        )
    )


@bp.post("/model/reload")
def reload_model():
    """Load the current champion (or configured alias/version) and switch to it; API key required."""
    require_api_key()
    holder = state().holder
    previous = None if holder.error else holder.current().version
    predictor = holder.reload()
    return answer(schemas.Reloaded(status="reloaded", previous_version=previous, model=_model_ref(predictor)))


@bp.post("/feedback")
def feedback():
    """Record the correct label of a served prediction; API key required. Durable before 201.

    A contradicting label is a misclassified tweet: it goes to Application Insights and the alert rule.
    """
    require_api_key()
    parsed = feedback_request(json_object(request))
    outcome = state().events.record_feedback(parsed.prediction_id, parsed.correct_label)
    record = outcome.feedback
    return answer(
        schemas.FeedbackRecorded(
            feedback_id=record.id,
            prediction_id=record.prediction_id,
            correct_label=record.correct_label,
            prediction_was_correct=not outcome.flagged,
            recorded_at=record.created_at,
        ),
        201,
    )


@bp.get("/monitoring")
def monitoring():
    """Counters of the prediction events (queued, written, dropped, failed) and the active outputs."""
    return answer(schemas.Monitoring.model_validate(state().events.stats()))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of every route (the Swagger UI at ``/docs`` shows it)."""
    return jsonify(state().openapi)
