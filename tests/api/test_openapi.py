"""The OpenAPI document is well formed, covers every route, and real responses match it; it is generated from
the models of :mod:`api.schemas` with the app's limits, and says what the server enforces.

The document is checked by ``openapi-spec-validator``; responses by ``jsonschema`` against the
document's own schemas (see :mod:`tests.api.schema_check`).
"""

from __future__ import annotations

import json

from pydantic import ValidationError

import core
from api import ApiSettings, create_app
from api.openapi import SWAGGER_UI_BLUEPRINT, openapi_document
from api.schemas import request_models
from core.tracking.setup import resolve_tracking_uri
from tests.api.conftest import API_KEY, make_settings
from tests.api.schema_check import all_refs, errors, resolve, spec_errors

METHODS = {"get", "post", "put", "patch", "delete"}


def test_document_is_structurally_valid_openapi_3() -> None:
    doc = openapi_document()
    assert spec_errors(doc) == []
    assert doc["openapi"].startswith("3.1.") and doc["info"]["title"] and doc["info"]["version"]
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            assert method in METHODS and operation["responses"]
            for code, response in operation["responses"].items():
                assert code.isdigit() and response["description"]
                assert "schema" in response["content"]["application/json"]
            for requirement in operation.get("security", []):
                assert set(requirement) <= set(doc["components"]["securitySchemes"])
    for ref in all_refs(doc):
        assert isinstance(resolve(doc, ref), dict), ref


def test_every_flask_route_is_documented(app) -> None:
    documented = {(p, m.upper()) for p, item in openapi_document()["paths"].items() for m in item}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    served = {
        (rule.rule, method)
        for rule in rules
        if not rule.endpoint.startswith(f"{SWAGGER_UI_BLUEPRINT}.")  # the page for people, not the API
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented
    assert {r.rule for r in rules if r.endpoint.startswith(f"{SWAGGER_UI_BLUEPRINT}.")} == {
        "/docs",
        "/docs/",
        "/docs/<path:path>",
    }


def _check(doc: dict, path: str, method: str, response) -> None:
    responses = doc["paths"][path][method]["responses"]
    assert str(response.status_code) in responses, (path, method, response.status_code)
    schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
    problems = errors(response.get_json(), schema, doc)
    assert not problems, (path, method, response.status_code, problems)


def test_real_responses_match_their_schemas(client) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc == openapi_document()
    key = {"X-API-Key": API_KEY}
    single = client.post("/predict", json={"text": "lost my bag"})
    prediction_id = single.get_json()["prediction_id"]
    calls = [
        ("/health", "get", client.get("/health")),
        ("/ready", "get", client.get("/ready")),
        ("/model", "get", client.get("/model")),
        ("/openapi.json", "get", client.get("/openapi.json")),
        ("/predict", "post", single),
        ("/predict", "post", client.post("/predict", json={"texts": ["a good day", "a bad day"]})),
        ("/predict", "post", client.post("/predict", data="{", content_type="application/json")),
        ("/predict", "post", client.post("/predict", data="x", content_type="text/plain")),
        ("/predict", "post", client.post("/predict", json={"text": ""})),
        ("/predict", "get", client.get("/predict")),
        (
            "/feedback",
            "post",
            client.post("/feedback", json={"prediction_id": prediction_id, "correct_label": "negative"}, headers=key),
        ),
        (
            "/feedback",
            "post",
            client.post("/feedback", json={"prediction_id": "nope", "correct_label": "negative"}, headers=key),
        ),
        ("/feedback", "post", client.post("/feedback", json={}, headers={})),
        ("/model/reload", "post", client.post("/model/reload", headers=key)),
        ("/model/reload", "post", client.post("/model/reload")),
    ]
    for path, method, response in calls:
        _check(doc, path, method if response.status_code != 405 else "post", response)
    assert {c[2].status_code for c in calls} >= {200, 201, 400, 401, 404, 405, 415, 422}


def test_predict_request_examples_match_request_schema() -> None:
    doc = openapi_document()
    schema = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert not errors({"text": "hi"}, schema, doc) and not errors({"texts": ["a", "b"]}, schema, doc)
    assert errors({"text": ""}, schema, doc) and errors({"texts": []}, schema, doc)


def test_the_checkers_catch_what_they_must() -> None:
    doc = openapi_document()
    broken = {**doc, "paths": {"/predict": {"post": {"responses": {"200": {}}}}}}
    assert spec_errors(broken)  # a response without description
    schema = {"$ref": "#/components/schemas/ModelInfo"}
    assert any("'version' is a required property" in e for e in errors({"name": "m"}, schema, doc))
    assert any("is not of type" in e for e in errors({"probability_negative": "high"}, {"$ref": _pred(doc)}, doc))


def _pred(doc: dict) -> str:
    response = doc["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return next(ref for ref in all_refs(response))


# --- generated from the models, with the app's settings -------------------------------------------------------


def _request_schemas(doc: dict) -> dict[str, dict]:
    schemas = doc["components"]["schemas"]
    return {
        "text": schemas["PredictText"]["properties"]["text"],
        "texts": schemas["PredictBatch"]["properties"]["texts"],
        "explain": schemas["ExplainRequest"]["properties"]["text"],
    }


def test_the_served_limits_are_the_settings_defaults(client) -> None:
    defaults = ApiSettings()
    served = _request_schemas(client.get("/openapi.json").get_json())
    assert served["text"]["maxLength"] == served["explain"]["maxLength"] == defaults.max_text_length == 1_000
    assert served["texts"]["items"]["maxLength"] == defaults.max_text_length
    assert served["texts"]["maxItems"] == defaults.max_batch_size == 256


def test_the_served_limits_follow_the_environment(tracking, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", resolve_tracking_uri(tracking))
    monkeypatch.setenv("API_FEEDBACK_DB", str(tmp_path / "f.db"))
    monkeypatch.setenv("API_MAX_TEXT_LENGTH", "50")
    monkeypatch.setenv("API_MAX_BATCH_SIZE", "3")
    client = create_app().test_client()
    doc = client.get("/openapi.json").get_json()
    served = _request_schemas(doc)
    assert served["text"]["maxLength"] == served["explain"]["maxLength"] == 50
    assert served["texts"]["items"]["maxLength"] == 50 and served["texts"]["maxItems"] == 3
    assert spec_errors(doc) == []
    # ... and they are what the app enforces
    body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for sent, status in (({"text": "x" * 50}, 200), ({"text": "x" * 51}, 422), ({"texts": ["a"] * 4}, 422)):
        assert client.post("/predict", json=sent).status_code == status
        assert (errors(sent, body, doc) == []) == (status == 200), sent


def test_two_apps_serve_their_own_limits(tracking, tmp_path) -> None:
    small = create_app(make_settings(tracking, tmp_path / "a.db", max_text_length=5, max_batch_size=2))
    default = create_app(make_settings(tracking, tmp_path / "b.db"))
    assert _request_schemas(small.test_client().get("/openapi.json").get_json())["texts"]["maxItems"] == 2
    assert _request_schemas(default.test_client().get("/openapi.json").get_json())["texts"]["maxItems"] == 256


def test_info_version_is_the_package_version(client) -> None:
    assert client.get("/openapi.json").get_json()["info"]["version"] == core.__version__


_BODIES = [
    {"text": "hello"},
    {"text": "12345"},
    {"text": "123456"},
    {"text": ""},
    {"text": " \t"},
    {"text": "\u3000"},
    {"text": "\u0085"},
    {"text": "a\x00"},
    {"text": 3},
    {"text": None},
    {"text": "ok", "unrelated": 1},
    {"text": "a", "texts": ["b"]},
    {"texts": [], "text": "z"},
    {},
    {"tweet": "hello"},
    {"texts": ["a", "b"]},
    {"texts": ["a", "b", "c"]},
    {"texts": []},
    {"texts": "ab"},
    {"texts": ["a", " "]},
    {"texts": ["a", 1]},
    {"texts": ["123456"]},
]


def test_validator_models_and_schema_agree_on_every_body(tracking, tmp_path) -> None:
    """What the server accepts, the generated schema and the pydantic request models accept, and only that."""
    settings = make_settings(tracking, tmp_path / "f.db", max_text_length=5, max_batch_size=2)
    client = create_app(settings).test_client()
    doc = client.get("/openapi.json").get_json()
    models = request_models(settings.max_text_length, settings.max_batch_size)
    for path, model in (("/predict", models.predict), ("/explain", models.explain)):
        schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        verdicts = set()
        for body in _BODIES:
            status = client.post(path, json=body).status_code
            assert status in (200, 422), (path, body, status)
            try:
                model.model_validate_json(json.dumps(body))
                model_accepts = True
            except ValidationError:
                model_accepts = False
            verdicts.add(status)
            assert (status == 200) == (errors(body, schema, doc) == []) == model_accepts, (path, body, status)
        assert verdicts == {200, 422}, path
