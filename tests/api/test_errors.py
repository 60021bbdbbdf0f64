"""Every bad input a client can send gets a JSON error with the right status, never a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import make_settings

JSON = "application/json"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({}, 422, "exactly one of 'text'"),
        ({"text": "a", "texts": ["b"]}, 422, "exactly one of 'text'"),
        ({"tweet": "hello"}, 422, "exactly one of 'text'"),
        ({"text": 42}, 422, "'text' must be a string"),
        ({"text": None}, 422, "'text' must be a string"),
        ({"text": ""}, 422, "must not be empty or only whitespace"),
        ({"text": " \t\n "}, 422, "must not be empty or only whitespace"),
        ({"text": "x" * 1001}, 422, "longer than 1000 characters"),
        ({"texts": "hello"}, 422, "'texts' must be a list of strings"),
        ({"texts": []}, 422, "'texts' must not be empty"),
        ({"texts": ["ok", 3]}, 422, "'texts'[1] must be a string"),
        ({"texts": ["ok", "  "]}, 422, "'texts'[1] must not be empty"),
        ({"texts": ["ok"] * 257}, 422, "holds 257 items; the maximum is 256"),
        ([1, 2], 422, "must be a JSON object"),
    ],
)
def test_predict_rejects_bad_bodies(client, body, status, fragment) -> None:
    response = client.post("/predict", json=body)
    assert response.status_code == status
    assert fragment in response.get_json()["error"]


def test_text_of_exactly_max_length_is_accepted(client) -> None:
    assert client.post("/predict", json={"text": "x" * 1000}).status_code == 200


@pytest.mark.parametrize("raw", [b"{not json", b'{"text": "a"', b"\xff\xfe", b""])
def test_malformed_json_is_400(client, raw) -> None:
    response = client.post("/predict", data=raw, content_type=JSON)
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request body is not valid JSON."}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(client, content_type) -> None:
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post("/predict", data='{"text": "hello"}', **kwargs)
    assert response.status_code == 415
    assert "must be JSON" in response.get_json()["error"]


def test_body_too_large_is_413(client) -> None:
    response = client.post("/predict", data=b'{"text": "' + b"x" * 1_100_000 + b'"}', content_type=JSON)
    assert response.status_code == 413
    assert response.get_json() == {"error": "The request body is too large."}


def test_limits_come_from_settings(tracking, tmp_path) -> None:
    from api import create_app

    app = create_app(make_settings(tracking, tmp_path / "f.db", max_text_length=5, max_batch_size=2))
    client = app.test_client()
    assert "longer than 5 characters" in client.post("/predict", json={"text": "123456"}).get_json()["error"]
    assert client.post("/predict", json={"texts": ["a", "b", "c"]}).status_code == 422
    assert client.post("/predict", json={"texts": ["a", "b"]}).status_code == 200


def test_unknown_route_and_wrong_method(client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json() == {"error": "No such route."}
    response = client.get("/predict")
    assert response.status_code == 405
    assert response.get_json() == {"error": "This route does not accept that method."}
    assert client.delete("/health").status_code == 405
