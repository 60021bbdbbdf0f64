"""The OpenAPI document is well formed, covers every route, and real responses match it.

The document is checked by ``openapi-spec-validator``; responses by ``jsonschema`` against the
document's own schemas (see :mod:`tests.api.schema_check`).
"""

from __future__ import annotations

from api.openapi import openapi_document
from tests.api.conftest import API_KEY
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
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented


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
