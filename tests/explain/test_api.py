"""``POST /explain`` on the real API: answers match the OpenAPI document, bad input is refused exactly
as ``/predict`` refuses it (never a 500), and a BERT champion is explained through ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app
from api.openapi import openapi_document
from tests.api.conftest import make_settings
from tests.api.schema_check import errors

TWEET = "My flight was DELAYED again &amp; they lost my bag!!! <b>angry</b>"


@pytest.fixture(scope="module")
def client(trained, tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """The real API serving the tiny pipeline's champion (a TF-IDF model)."""
    config, _ = trained
    settings = make_settings(config.tracking, tmp_path_factory.mktemp("explain_api") / "f.db", max_body_bytes=5_000)
    return create_app(settings).test_client()


def check_schema(response, status: int) -> None:
    """``response`` has ``status`` and matches the document's schema for it."""
    assert response.status_code == status, response.get_json()
    doc = openapi_document()
    schema = doc["paths"]["/explain"]["post"]["responses"][str(status)]["content"]["application/json"]["schema"]
    assert errors(response.get_json(), schema, doc) == []


def test_explains_a_tweet_with_offsets_into_the_text(client: FlaskClient) -> None:
    response = client.post("/explain", json={"text": TWEET})
    check_schema(response, 200)
    body = response.get_json()
    predicted = client.post("/predict", json={"text": TWEET}).get_json()
    assert body["label"] == predicted["label"] and body["model"] == predicted["model"]
    assert body["probability_negative"] == pytest.approx(predicted["probability_negative"], abs=1e-12)
    assert body["method"] == "linear"
    assert all(TWEET[t["start"] : t["end"]] == t["token"] for t in body["tokens"])
    assert "DELAYED" in [t["token"] for t in body["tokens"]]
    assert body["base_value"] + sum(t["weight"] for t in body["tokens"]) == pytest.approx(body["logit"], abs=1e-6)


BAD_REQUESTS = [
    ("malformed JSON", {"data": "{", "content_type": "application/json"}),
    ("not JSON", {"data": "text=hi", "content_type": "text/plain"}),
    ("not an object", {"json": ["hi"]}),
    ("empty text", {"json": {"text": ""}}),
    ("blank text", {"json": {"text": "  \n "}}),
    ("not a string", {"json": {"text": 42}}),
    ("null", {"json": {"text": None}}),
    ("too long", {"json": {"text": "x" * 1_001}}),
    ("both fields", {"json": {"text": "hi", "texts": ["hi"]}}),
    ("body too large", {"data": '{"text": "' + "x" * 6_000 + '"}', "content_type": "application/json"}),
]


@pytest.mark.parametrize(("case", "kwargs"), BAD_REQUESTS, ids=[c for c, _ in BAD_REQUESTS])
def test_bad_input_is_refused_exactly_like_predict(client: FlaskClient, case: str, kwargs: dict) -> None:
    explained, predicted = client.post("/explain", **kwargs), client.post("/predict", **kwargs)
    assert 400 <= explained.status_code < 500, case
    check_schema(explained, explained.status_code)
    assert (explained.status_code, explained.get_json()) == (predicted.status_code, predicted.get_json())


def test_one_tweet_at_a_time(client: FlaskClient) -> None:
    for body in ({"texts": ["a", "b"]}, {}, {"tweet": "hi"}):
        response = client.post("/explain", json=body)
        check_schema(response, 422)
        assert response.get_json()["error"] == "Send 'text' (a string): /explain explains one tweet at a time."
    assert client.get("/explain").status_code == 405


def test_no_model_answers_503_with_the_reason(tracking, tmp_path: Path) -> None:
    client = create_app(make_settings(tracking, tmp_path / "f.db", model_alias="missing")).test_client()
    response = client.post("/explain", json={"text": "hi"})
    check_schema(response, 503)
    assert response.get_json() == client.post("/predict", json={"text": "hi"}).get_json()


def test_a_bert_champion_is_explained_through_onnx_runtime(bert_store, tmp_path: Path) -> None:
    settings = make_settings(bert_store.tracking, tmp_path / "f.db", model_version=bert_store.version)
    client = create_app(settings).test_client()
    assert client.get("/model").get_json()["runtime"] == "onnx_int8"
    response = client.post("/explain", json={"text": "my flight was delayed again"})
    check_schema(response, 200)
    body = response.get_json()
    assert body["method"] == "occlusion" and body["base_value"] is not None
    assert max(body["tokens"], key=lambda t: t["weight"])["token"] == "delayed"
