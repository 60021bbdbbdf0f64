"""The OpenAPI 3.1 document (``GET /openapi.json``), generated from the pydantic models of :mod:`api.schemas`
with the limits of the app's settings, and the Swagger UI that shows it (``GET /docs``, offline).

Why generated here with ``model_json_schema`` rather than by flask-openapi3 or spectree: both validate the
request themselves (with ``request.get_json``, so a key named twice or a NUL character would slip past, and
their 422 bodies are not ours), and both bind each route's models when the module is imported, before the
settings that carry the limits are known. Here the routes stay plain Flask, :mod:`api.validation` keeps the
API's sentences, and the document is built once per app in :func:`api.create_app`. The Swagger UI's assets come
from the ``flask-swagger-ui`` package (Swagger UI 5, which reads OpenAPI 3.1; only Flask as a dependency) and are
served by the app itself: the page works without internet. Neither route needs the API key.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

import core
from api import schemas
from api.settings import ApiSettings

TITLE = "Air Paradise tweet sentiment API"
DOCS_PATH = "/docs"
SPEC_PATH = "/openapi.json"
SWAGGER_UI_BLUEPRINT = "swagger_ui"
"""The Swagger UI's routes (``/docs``, its assets under ``/docs/``): a page for people, not part of the API."""

_TEXT = schemas.TEXT_PATTERN  # the name tests/reliability reads the tweet pattern by
_REF = "#/components/schemas/{model}"

_DESCRIPTIONS = {
    200: "Success.",
    201: "Recorded (committed to disk before this answer).",
    400: "Malformed JSON.",
    401: "Missing or wrong API key.",
    404: "Unknown prediction id.",
    405: "Wrong method.",
    413: "Body too large.",
    415: "Content type is not application/json.",
    422: "Well-formed JSON with a missing field, a wrong type, or a value out of range.",
    429: "Too many requests from this client (API key or address); `Retry-After` says when to retry. "
    "Never on /health and /ready.",
    503: "No model is loaded (or a reload failed; the previous model is still served), "
    "or the event store is unavailable (feedback).",
}
_ALWAYS = (405, 429)
"""Errors every route can answer."""


@dataclass(frozen=True)
class _Operation:
    """One route as documented: its answers and, for writes, its body and whether the API key is needed."""

    method: str
    summary: str
    status: int
    answers: tuple[type[BaseModel], ...]
    """The success body (several: exactly one of them)."""
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    keyed: bool = False


def _operations(requests: schemas.RequestModels) -> dict[str, _Operation]:
    """Every route of :mod:`api.routes`, keyed by path."""
    body_errors = (400, 413, 415, 422)
    return {
        "/health": _Operation("get", "Liveness", 200, (schemas.Health,)),
        "/ready": _Operation("get", "Readiness: is a model loaded?", 200, (schemas.Ready,), (503,)),
        "/predict": _Operation(
            "post",
            "Sentiment of one tweet (`text`) or a batch (`texts`, answers in order)",
            200,
            (schemas.Prediction, schemas.PredictionBatch),
            (*body_errors, 503),
            body=requests.predict,
        ),
        "/explain": _Operation(
            "post",
            "Which words of one tweet push it towards negative or positive",
            200,
            (schemas.Explanation,),
            (*body_errors, 503),
            body=requests.explain,
        ),
        "/model": _Operation("get", "The served model", 200, (schemas.ModelInfo,), (503,)),
        "/model/reload": _Operation(
            "post", "Switch to the current champion without restart", 200, (schemas.Reloaded,), (401, 503), keyed=True
        ),
        "/feedback": _Operation(
            "post",
            "Record the correct label of a served prediction",
            201,
            (schemas.FeedbackRecorded,),
            (400, 401, 404, 413, 415, 422, 503),
            body=requests.feedback,
            keyed=True,
        ),
        "/monitoring": _Operation(
            "get", "Prediction-event counters and the monitoring outputs in use", 200, (schemas.Monitoring,)
        ),
        SPEC_PATH: _Operation("get", "This document", 200, (schemas.OpenApiDocument,)),
    }


def _json(ref: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _path_item(op: _Operation) -> dict[str, Any]:
    answer = _ref(op.answers[0]) if len(op.answers) == 1 else {"oneOf": [_ref(m) for m in op.answers]}
    responses: dict[str, Any] = {str(op.status): {"description": _DESCRIPTIONS[op.status], "content": _json(answer)}}
    for status in (*op.errors, *_ALWAYS):
        responses[str(status)] = {"description": _DESCRIPTIONS[status], "content": _json(_ref(schemas.Error))}
    responses["429"]["headers"] = {
        "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    }
    operation: dict[str, Any] = {"summary": op.summary}
    if op.keyed:
        operation["security"] = [{"ApiKey": []}]
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(op.body))}
    operation["responses"] = responses
    return {op.method: operation}


@functools.cache
def _document(max_text_length: int, max_batch_size: int) -> dict[str, Any]:
    operations = _operations(schemas.request_models(max_text_length, max_batch_size))
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(schemas.Error, "serialization")]
    for op in operations.values():
        models += [(m, "serialization") for m in op.answers]
        if op.body is not None:
            models.append((op.body, "validation"))
    _, generated = models_json_schema(models, ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": core.__version__,
            "description": 'Every error answers `{"error": "<one sentence>"}`; unknown routes answer 404. '
            f"Interactive documentation: `{DOCS_PATH}`.",
        },
        "paths": {path: _path_item(op) for path, op in operations.items()},
        "components": {
            "schemas": dict(sorted(generated["$defs"].items())),
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


def openapi_document(settings: ApiSettings | None = None) -> dict[str, Any]:
    """The OpenAPI document of an app with ``settings`` (``None``: the default settings), as a fresh copy.

    Its request schemas carry ``settings.max_text_length`` and ``settings.max_batch_size``; its version is
    the package's (:data:`core.__version__`).
    """
    settings = settings or ApiSettings()
    return copy.deepcopy(_document(settings.max_text_length, settings.max_batch_size))


def install_swagger_ui(app: Flask) -> None:
    """Serve the Swagger UI of :data:`SPEC_PATH` at :data:`DOCS_PATH`, its assets from the installed package."""
    blueprint = get_swaggerui_blueprint(
        DOCS_PATH,
        SPEC_PATH,
        # validatorUrl None: no call to the public spec validator (the page must work offline)
        config={"app_name": TITLE, "validatorUrl": None},
        blueprint_name=SWAGGER_UI_BLUEPRINT,
    )
    app.register_blueprint(blueprint)
    app.add_url_rule(DOCS_PATH, endpoint=f"{SWAGGER_UI_BLUEPRINT}.show")  # /docs itself, not only /docs/
