"""Hostile inputs, each with the status and the sentence it gets; regression cases found by fuzzing.

The client app is checked against the real API on loopback: typed HTML is shown escaped, never
reflected as markup, and every page carries the security headers.
"""

from __future__ import annotations

import json
import time

import pytest

from client_app import ClientSettings
from client_app import create_app as create_client
from tests.api.conftest import API_KEY
from tests.client_app.conftest import serve
from tests.reliability.conftest import KEY

LABELS = {"negative", "positive"}


def post_raw(client, path: str, body: bytes | str, headers: dict | None = None):
    return client.post(path, data=body, content_type="application/json", headers=headers or {})


def assert_prediction(response) -> dict:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["label"] in LABELS and 0.0 <= body["probability_negative"] <= 1.0
    assert len(body["prediction_id"]) == 32
    return body


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("😡😡😡✈️💼", id="emoji-only"),
        pytest.param("הטיסה שלי התעכבה שוב ואיבדו את המזוודה", id="rtl-hebrew"),
        pytest.param("رحلتي تأخرت مرة أخرى", id="rtl-arabic"),
        pytest.param("\u202egalf ym tsol yeht\u202c", id="rtl-override"),
        pytest.param("great\u200bflight\u200d\ufeff", id="zero-width-inside"),
        pytest.param("\u200b\u200c\u200d", id="zero-width-only"),
        pytest.param("x" * 1000, id="long-single-token-at-limit"),
        pytest.param("<script>alert(document.cookie)</script>", id="html-script"),
    ],
)
def test_odd_but_valid_text_is_scored(client, text: str) -> None:
    single = assert_prediction(client.post("/predict", json={"text": text}))
    batch = client.post("/predict", json={"texts": [text, "lost my bag"]})
    assert batch.status_code == 200 and batch.get_json()["predictions"][0]["label"] == single["label"]
    assert "<script" not in client.post("/predict", json={"text": text}).get_data(as_text=True)  # never echoed


def test_explain_offsets_stay_inside_rtl_and_emoji_text(client) -> None:
    text = "😡 הטיסה delayed again ✈️"
    body = client.post("/explain", json={"text": text}).get_json()
    for token in body["tokens"]:
        assert text[token["start"] : token["end"]] == token["token"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param('{"text": "lost\\u0000bag"}', 422, "'text' must not contain NUL characters.", id="nul-escaped"),
        pytest.param(
            '{"texts": ["ok", "\\u0000"]}', 422, "'texts'[1] must not contain NUL characters.", id="nul-batch"
        ),
        pytest.param(
            '{"text": "bad \\ud800 flight"}',
            422,
            "'text' is not valid Unicode (it holds an unpaired surrogate).",
            id="lone-high-surrogate",
        ),
        pytest.param(
            '{"text": "\\udc00"}', 422, "'text' is not valid Unicode (it holds an unpaired surrogate).", id="lone-low"
        ),
        pytest.param(
            b'{"text": "raw \xed\xa0\x80 bytes"}',
            422,
            "'text' is not valid Unicode (it holds an unpaired surrogate).",
            id="utf8-encoded-surrogate",
        ),
        pytest.param(b'{"text": "\xff\xfe"}', 400, "The request body is not valid JSON.", id="invalid-utf8"),
        pytest.param(
            '{"text": "a", "text": "b"}', 422, 'The key "text" appears more than once in the JSON object.', id="dup-key"
        ),
        pytest.param('{"text": 42}', 422, "'text' must be a string.", id="number-for-string"),
        pytest.param('{"text": ["a"]}', 422, "'text' must be a string.", id="list-for-string"),
        pytest.param('{"text": null}', 422, "'text' must be a string.", id="null-for-string"),
        pytest.param('{"texts": ["a", 1.5]}', 422, "'texts'[1] must be a string.", id="number-in-batch"),
        pytest.param('{"texts": "a"}', 422, "'texts' must be a list of strings.", id="string-for-list"),
        pytest.param(json.dumps({"text": "x" * 1001}), 422, "'text' is longer than 1000 characters.", id="long-token"),
        pytest.param('{"text": "\\u2028\\u3000\\t"}', 422, "'text' must not be empty or only whitespace.", id="blank"),
        pytest.param("[" * 50_000 + "]" * 50_000, 400, "The request body is nested too deeply.", id="deep-array"),
        pytest.param(
            '{"a":' * 20_000 + "1" + "}" * 20_000, 400, "The request body is nested too deeply.", id="deep-obj"
        ),
        pytest.param(
            '{"text": ' + "[" * 100 + "]" * 100 + "}", 422, "'text' must be a string.", id="nested-within-limits"
        ),
        pytest.param("NaN", 422, "The request body must be a JSON object.", id="bare-nan"),
    ],
)
def test_hostile_predict_bodies_get_a_clear_4xx(client, body, status: int, message: str) -> None:
    response = post_raw(client, "/predict", body)
    assert response.status_code == status
    assert response.get_json() == {"error": message}


def test_one_megabyte_body_is_413(client) -> None:
    body = json.dumps({"text": "x" * 1_000_001})
    response = post_raw(client, "/predict", body)
    assert response.status_code == 413 and response.get_json() == {"error": "The request body is too large."}


def test_hundred_thousand_element_batch_is_refused_fast(client) -> None:
    body = json.dumps({"texts": ["a"] * 100_000})  # 500 kB: under the body limit, so the batch rule decides
    start = time.perf_counter()
    response = post_raw(client, "/predict", body)
    elapsed = time.perf_counter() - start
    assert response.status_code == 422
    assert response.get_json() == {"error": "'texts' holds 100000 items; the maximum is 256."}
    assert elapsed < 1.0, elapsed  # nothing was scored


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"prediction_id": 7, "correct_label": "negative"}, "'prediction_id' must be a non-empty string."),
        pytest.param(
            {"prediction_id": "a" * 65, "correct_label": "negative"}, "'prediction_id' is longer than 64 characters."
        ),
        pytest.param(
            {"prediction_id": "ab\x00", "correct_label": "negative"}, "'prediction_id' must not contain NUL characters."
        ),
        pytest.param(
            {"prediction_id": "x", "correct_label": 1}, "'correct_label' must be one of 'negative', 'positive'."
        ),
    ],
)
def test_hostile_feedback_bodies_are_422(client, body: dict, message: str) -> None:
    response = client.post("/feedback", json=body, headers=KEY)
    assert response.status_code == 422 and response.get_json() == {"error": message}


def test_feedback_with_a_lone_surrogate_id_is_422_not_500(client) -> None:
    # Found by reasoning about the store: SQLite cannot bind such a string (it raised outside SQLAlchemy).
    response = post_raw(client, "/feedback", '{"prediction_id": "\\ud800", "correct_label": "negative"}', KEY)
    assert response.status_code == 422
    assert response.get_json() == {"error": "'prediction_id' is not valid Unicode (it holds an unpaired surrogate)."}


# --- regressions found by schemathesis (tests/reliability/test_fuzzing.py) -----------------------------------


def test_regression_405_names_the_allowed_methods(client) -> None:
    response = client.open("/health", method="TRACE")
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) >= {"GET"}
    assert response.get_json() == {"error": "This route does not accept that method."}


def test_regression_text_and_texts_together_is_422_and_documented(client) -> None:
    # the schema's oneOf used to accept {"texts": [], "text": "z"} (first branch), the server refused it
    from jsonschema import Draft202012Validator

    from api.openapi import openapi_document

    doc = openapi_document()
    body = {"texts": [], "text": "z"}
    for name in ("PredictRequest", "ExplainRequest"):
        schema = {**doc["components"]["schemas"][name], "components": doc["components"]}
        assert not Draft202012Validator(schema).is_valid(body), name
    for path in ("/predict", "/explain"):
        assert client.post(path, json=body).status_code == 422


@pytest.mark.parametrize("blank", ["\u001d", "\u0085", "\u3000 \t"])
def test_regression_unicode_whitespace_is_blank_in_the_schema_too(client, blank: str) -> None:
    import re

    from api.openapi import _TEXT

    assert re.search(_TEXT, blank) is None
    response = client.post("/predict", json={"texts": [blank]})
    assert response.status_code == 422
    assert response.get_json() == {"error": "'texts'[0] must not be empty or only whitespace."}


def test_regression_whitespace_prediction_id_is_422(client) -> None:
    response = client.post("/feedback", json={"prediction_id": " ", "correct_label": "negative"}, headers=KEY)
    assert response.status_code == 422


# --- the client app never reflects HTML ----------------------------------------------------------------------


HOSTILE_HTML = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'&"


def test_client_app_escapes_typed_html_and_sends_security_headers(app) -> None:
    with serve(app) as api_url:
        client = create_client(ClientSettings(api_url=api_url, api_key=API_KEY, timeout_s=10)).test_client()
        page = client.post("/predict", data={"text": HOSTILE_HTML})
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        too_long = client.post("/predict", data={"text": "<b>" + "x" * 2000})  # the API's 422 sentence shown
        assert too_long.status_code == 422 and "<b>x" not in too_long.get_data(as_text=True)
        for response in (page, too_long, client.get("/"), client.get("/no-such-page")):
            headers = response.headers
            csp = headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
            assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
            assert headers["Referrer-Policy"] == "no-referrer"
