"""The hand-written OpenAPI 3.1 document of every route (served at ``GET /openapi.json``)."""

from __future__ import annotations

import copy
from typing import Any

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_NUM = {"type": ["number", "null"]}
_COUNTERS = ("queued", "written", "dropped", "failed")
_NOT_BLANK = "[^\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
_TEXT = "^[^\\x00]*" + _NOT_BLANK.replace("[^", "[^\\x00") + "[^\\x00]*$"
"""No NUL character, and at least one that is not white space (Python's ``str.isspace``, spelled out so that
ECMA and Python regular expressions agree)."""

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "One sentence saying what went wrong."}},
    },
    "ModelRef": {
        "type": "object",
        "required": ["name", "version"],
        "properties": {"name": _STR, "version": _STR},
    },
    "PredictRequest": {
        "description": "Exactly one of `text` or `texts`.",
        "oneOf": [
            {
                "type": "object",
                "required": ["text"],
                "not": {"required": ["texts"]},
                "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": _TEXT}},
            },
            {
                "type": "object",
                "required": ["texts"],
                "not": {"required": ["text"]},
                "properties": {
                    "texts": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 256,
                        "items": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": _TEXT},
                    }
                },
            },
        ],
    },
    "Prediction": {
        "type": "object",
        "required": ["label", "probability_negative", "model", "prediction_id"],
        "properties": {
            "label": {"type": "string", "enum": ["negative", "positive"]},
            "probability_negative": {"type": "number", "minimum": 0, "maximum": 1},
            "model": {"$ref": "#/components/schemas/ModelRef"},
            "prediction_id": _STR,
        },
    },
    "PredictionBatch": {
        "type": "object",
        "required": ["predictions"],
        "properties": {"predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}}},
    },
    "ExplainRequest": {
        "type": "object",
        "required": ["text"],
        "not": {"required": ["texts"]},
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": _TEXT}},
    },
    "Explanation": {
        "type": "object",
        "description": "Weights are in logit units of P(negative): > 0 pushes towards negative, < 0 towards "
        "positive. `linear` (TF-IDF family): exact shares, `base_value` (the intercept) + the weights = `logit`. "
        "`occlusion` (other families): the logit drop when the token alone is removed; `base_value`: the logit "
        "with every token removed. `logit` is the model's score before calibration; `probability_negative` and "
        "`label` are the served (calibrated) ones, as `/predict` answers them.",
        "required": ["label", "probability_negative", "model", "method", "tokens", "logit", "base_value"],
        "properties": {
            "label": {"type": "string", "enum": ["negative", "positive"]},
            "probability_negative": {"type": "number", "minimum": 0, "maximum": 1},
            "model": {"$ref": "#/components/schemas/ModelRef"},
            "method": {"type": "string", "enum": ["linear", "occlusion"]},
            "tokens": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["token", "start", "end", "weight"],
                    "description": "`token` is `text[start:end]` (offsets in Unicode code points).",
                    "properties": {
                        "token": _STR,
                        "start": {"type": "integer", "minimum": 0},
                        "end": {"type": "integer", "minimum": 1},
                        "weight": {"type": "number"},
                    },
                },
            },
            "logit": {"type": "number"},
            "base_value": _NULLABLE_NUM,
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["ok"]}}},
    "Ready": {
        "type": "object",
        "required": ["status", "model"],
        "properties": {
            "status": {"type": "string", "enum": ["ready"]},
            "model": {"$ref": "#/components/schemas/ModelRef"},
        },
    },
    "ModelInfo": {
        "type": "object",
        "required": ["name", "version", "family", "preprocessing", "threshold", "metric", "trained_at", "runtime"],
        "properties": {
            "name": _STR,
            "version": _STR,
            "run_id": _NULLABLE_STR,
            "family": _NULLABLE_STR,
            "preprocessing": _NULLABLE_STR,
            "threshold": _NULLABLE_NUM,
            "metric": {
                "type": "object",
                "required": ["name", "split", "value"],
                "properties": {"name": _NULLABLE_STR, "split": _STR, "value": _NULLABLE_NUM},
            },
            "trained_at": {"type": ["string", "null"], "format": "date-time"},
            "runtime": {
                "type": ["string", "null"],
                "enum": ["native", "onnx", "onnx_int8", "mixed", None],
                "description": (
                    "What scores tweets in this process (ONNX Runtime or the family's own framework; "
                    "mixed: an ensemble whose members run on different ones)."
                ),
            },
        },
    },
    "Reloaded": {
        "type": "object",
        "required": ["status", "previous_version", "model"],
        "properties": {
            "status": {"type": "string", "enum": ["reloaded"]},
            "previous_version": _NULLABLE_STR,
            "model": {"$ref": "#/components/schemas/ModelRef"},
        },
    },
    "FeedbackRequest": {
        "type": "object",
        "required": ["prediction_id", "correct_label"],
        "properties": {
            "prediction_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": _TEXT},
            "correct_label": {"type": "string", "enum": ["negative", "positive"]},
        },
    },
    "FeedbackRecorded": {
        "type": "object",
        "required": ["feedback_id", "prediction_id", "correct_label", "prediction_was_correct", "recorded_at"],
        "properties": {
            "feedback_id": {"type": "integer"},
            "prediction_id": _STR,
            "correct_label": {"type": "string", "enum": ["negative", "positive"]},
            "prediction_was_correct": {"type": "boolean"},
            "recorded_at": {"type": "string", "format": "date-time"},
        },
    },
    "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths"]},
    "Monitoring": {
        "type": "object",
        "required": ["events", "telemetry", "alert_channels"],
        "properties": {
            "events": {
                "type": "object",
                "description": "This worker's prediction events: waiting, stored, dropped (queue full), failed.",
                "required": list(_COUNTERS),
                "properties": {k: {"type": "integer", "minimum": 0} for k in _COUNTERS},
            },
            "telemetry": {"type": "boolean", "description": "Application Insights is configured."},
            "alert_channels": {"type": "array", "items": {"type": "string", "enum": ["mail", "webhook"]}},
        },
    },
}

_DESCRIPTIONS = {
    "200": "Success.",
    "201": "Recorded (committed to disk before this answer).",
    "400": "Malformed JSON.",
    "401": "Missing or wrong API key.",
    "404": "Unknown prediction id.",
    "405": "Wrong method.",
    "413": "Body too large.",
    "415": "Content type is not application/json.",
    "422": "Well-formed JSON with a missing field, a wrong type, or a value out of range.",
    "429": "Too many requests from this client (API key or address); `Retry-After` says when to retry. "
    "Never on /health and /ready.",
    "503": "No model is loaded (or a reload failed; the previous model is still served), "
    "or the event store is unavailable (feedback).",
}


def _json(schema: str | dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {"application/json": {"schema": ref}}


def _responses(ok: tuple[str, str | dict[str, Any]], *errors: str) -> dict[str, Any]:
    code, schema = ok
    out = {code: {"description": _DESCRIPTIONS[code], "content": _json(schema)}}
    for status in (*errors, "405", "429"):
        out[status] = {"description": _DESCRIPTIONS[status], "content": _json("Error")}
    out["429"]["headers"] = {
        "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    }
    return out


_KEY = [{"ApiKey": []}]

PATHS: dict[str, Any] = {
    "/health": {"get": {"summary": "Liveness", "responses": _responses(("200", "Health"))}},
    "/ready": {"get": {"summary": "Readiness: is a model loaded?", "responses": _responses(("200", "Ready"), "503")}},
    "/predict": {
        "post": {
            "summary": "Sentiment of one tweet (`text`) or a batch (`texts`, answers in order)",
            "requestBody": {"required": True, "content": _json("PredictRequest")},
            "responses": _responses(
                (
                    "200",
                    {
                        "oneOf": [
                            {"$ref": "#/components/schemas/Prediction"},
                            {"$ref": "#/components/schemas/PredictionBatch"},
                        ]
                    },
                ),
                "400",
                "413",
                "415",
                "422",
                "503",
            ),
        }
    },
    "/explain": {
        "post": {
            "summary": "Which words of one tweet push it towards negative or positive",
            "requestBody": {"required": True, "content": _json("ExplainRequest")},
            "responses": _responses(("200", "Explanation"), "400", "413", "415", "422", "503"),
        }
    },
    "/model": {"get": {"summary": "The served model", "responses": _responses(("200", "ModelInfo"), "503")}},
    "/model/reload": {
        "post": {
            "summary": "Switch to the current champion without restart",
            "security": _KEY,
            "responses": _responses(("200", "Reloaded"), "401", "503"),
        }
    },
    "/feedback": {
        "post": {
            "summary": "Record the correct label of a served prediction",
            "security": _KEY,
            "requestBody": {"required": True, "content": _json("FeedbackRequest")},
            "responses": _responses(("201", "FeedbackRecorded"), "400", "401", "404", "413", "415", "422", "503"),
        }
    },
    "/monitoring": {
        "get": {
            "summary": "Prediction-event counters and the monitoring outputs in use",
            "responses": _responses(("200", "Monitoring")),
        }
    },
    "/openapi.json": {"get": {"summary": "This document", "responses": _responses(("200", "OpenApiDocument"))}},
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Air Paradise tweet sentiment API",
        "version": "1.0.0",
        "description": 'Every error answers `{"error": "<one sentence>"}`; unknown routes answer 404.',
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
    },
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the OpenAPI document."""
    return copy.deepcopy(_DOCUMENT)
