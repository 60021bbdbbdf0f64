"""Request parsing: JSON body, field types and limits, each failure one clear sentence.

The models of :mod:`api.schemas` document the same rules in the OpenAPI document; this module is what
enforces them, because pydantic would take the last of two equal keys and word its errors its own way.

Convention: malformed JSON is 400; well-formed JSON with a missing field, a wrong type or a
value out of range (empty text, too long, batch size) is 422; a non-JSON content type is 415.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Request

from api.errors import ApiError
from api.schemas import MAX_PREDICTION_ID_LENGTH
from core.monitoring.event_store import LABELS


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that names each key once (``{"text": "a", "text": "b"}`` is ambiguous: refused)."""
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise _DuplicateKeyError(key)
        body[key] = value
    return body


def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object.

    Raises:
        ApiError: 415 wrong content type, 400 malformed JSON (or nested too deeply to parse), 422 not an
            object or a key repeated.
    """
    if request.mimetype != "application/json":
        raise ApiError(415, "The request body must be JSON (Content-Type: application/json).")
    try:
        body = json.loads(request.get_data(), object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        key = exc.key if len(exc.key) <= 40 else exc.key[:40] + "..."
        raise ApiError(422, f"The key {json.dumps(key)} appears more than once in the JSON object.") from None
    except RecursionError:
        raise ApiError(400, "The request body is nested too deeply.") from None
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(422, "The request body must be a JSON object.")
    return body


def _check_unicode(text: str, where: str) -> str:
    """Refuse what no store can keep: NUL characters (PostgreSQL text) and unpaired surrogates (not Unicode).

    Raises:
        ApiError: 422.
    """
    if "\x00" in text:
        raise ApiError(422, f"{where} must not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(422, f"{where} is not valid Unicode (it holds an unpaired surrogate).") from None
    return text


def _check_text(text: Any, where: str, max_length: int) -> str:
    if not isinstance(text, str):
        raise ApiError(422, f"{where} must be a string.")
    if not text.strip():
        raise ApiError(422, f"{where} must not be empty or only whitespace.")
    if len(text) > max_length:
        raise ApiError(422, f"{where} is longer than {max_length} characters.")
    return _check_unicode(text, where)


@dataclass(frozen=True)
class PredictRequest:
    """Texts to score and whether the client sent one (``text``) or a batch (``texts``)."""

    texts: list[str]
    single: bool


def predict_request(body: dict[str, Any], max_length: int, max_batch: int) -> PredictRequest:
    """Validate a ``/predict`` body: exactly one of ``text`` or ``texts``.

    Raises:
        ApiError: 422 with the first problem found.
    """
    if ("text" in body) == ("texts" in body):
        raise ApiError(422, "Send exactly one of 'text' (a string) or 'texts' (a list of strings).")
    if "text" in body:
        return PredictRequest([_check_text(body["text"], "'text'", max_length)], single=True)
    texts = body["texts"]
    if not isinstance(texts, list):
        raise ApiError(422, "'texts' must be a list of strings.")
    if not texts:
        raise ApiError(422, "'texts' must not be empty.")
    if len(texts) > max_batch:
        raise ApiError(422, f"'texts' holds {len(texts)} items; the maximum is {max_batch}.")
    return PredictRequest([_check_text(t, f"'texts'[{i}]", max_length) for i, t in enumerate(texts)], single=False)


def explain_request(body: dict[str, Any], max_length: int) -> str:
    """Validate an ``/explain`` body: ``{"text": ...}`` checked exactly as ``/predict`` checks it.

    Raises:
        ApiError: 422 with the first problem found (a batch ``texts`` included: one tweet at a time).
    """
    if "text" not in body:
        raise ApiError(422, "Send 'text' (a string): /explain explains one tweet at a time.")
    return predict_request(body, max_length, max_batch=1).texts[0]


@dataclass(frozen=True)
class FeedbackRequest:
    """A verdict on one prediction."""

    prediction_id: str
    correct_label: str


def feedback_request(body: dict[str, Any]) -> FeedbackRequest:
    """Validate a ``/feedback`` body.

    Raises:
        ApiError: 422 with the first problem found.
    """
    prediction_id = body.get("prediction_id")
    if not isinstance(prediction_id, str) or not prediction_id.strip():
        raise ApiError(422, "'prediction_id' must be a non-empty string.")
    if len(prediction_id) > MAX_PREDICTION_ID_LENGTH:
        raise ApiError(422, f"'prediction_id' is longer than {MAX_PREDICTION_ID_LENGTH} characters.")
    _check_unicode(prediction_id, "'prediction_id'")
    label = body.get("correct_label")
    if label not in LABELS:
        raise ApiError(422, f"'correct_label' must be one of {', '.join(repr(x) for x in LABELS)}.")
    return FeedbackRequest(prediction_id, label)
