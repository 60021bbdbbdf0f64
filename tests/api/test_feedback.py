"""Feedback: API key enforced, durable in SQLite across app restarts, unknown ids are 404."""

from __future__ import annotations

import sqlite3

import pytest

from api import create_app
from tests.api.conftest import API_KEY, make_settings

KEY = {"X-API-Key": API_KEY}


def _predict(client, text: str = "lost my bag again") -> dict:
    return client.post("/predict", json={"text": text}).get_json()


def test_feedback_is_durable_across_restart(api_settings, client) -> None:
    served = _predict(client)
    wrong = "positive" if served["label"] == "negative" else "negative"
    response = client.post(
        "/feedback", json={"prediction_id": served["prediction_id"], "correct_label": wrong}, headers=KEY
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["prediction_id"] == served["prediction_id"] and body["correct_label"] == wrong
    assert body["prediction_was_correct"] is False
    # A fresh app on the same DB file sees the prediction and the feedback (committed, WAL mode).
    restarted = create_app(api_settings)
    store = restarted.extensions["sentiment_api"].store
    assert [f.correct_label for f in store.feedback_for(served["prediction_id"])] == [wrong]
    again = restarted.test_client().post(
        "/feedback", json={"prediction_id": served["prediction_id"], "correct_label": served["label"]}, headers=KEY
    )
    assert again.status_code == 201 and again.get_json()["prediction_was_correct"] is True
    with sqlite3.connect(api_settings.feedback_db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 2


def test_unknown_prediction_id_is_404(client) -> None:
    response = client.post("/feedback", json={"prediction_id": "nope", "correct_label": "negative"}, headers=KEY)
    assert response.status_code == 404
    assert response.get_json() == {"error": "No prediction has id 'nope'."}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"correct_label": "negative"}, "'prediction_id' must be a non-empty string"),
        ({"prediction_id": 7, "correct_label": "negative"}, "'prediction_id' must be a non-empty string"),
        ({"prediction_id": "x", "correct_label": "neutral"}, "'correct_label' must be one of"),
        ({"prediction_id": "x"}, "'correct_label' must be one of"),
    ],
)
def test_bad_feedback_is_422(client, body, fragment) -> None:
    response = client.post("/feedback", json=body, headers=KEY)
    assert response.status_code == 422 and fragment in response.get_json()["error"]


def test_feedback_malformed_and_content_type(client) -> None:
    assert client.post("/feedback", data="{", content_type="application/json", headers=KEY).status_code == 400
    assert client.post("/feedback", data="x", content_type="text/plain", headers=KEY).status_code == 415


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}, {"Authorization": API_KEY}])
def test_api_key_required(client, headers) -> None:
    served = _predict(client)
    body = {"prediction_id": served["prediction_id"], "correct_label": "negative"}
    for response in (
        client.post("/feedback", json=body, headers=headers),
        client.post("/model/reload", headers=headers),
    ):
        assert response.status_code == 401
        assert response.get_json() == {"error": "A valid API key is required in the X-API-Key header."}


def test_no_configured_key_refuses_writes(tracking, tmp_path) -> None:
    settings = make_settings(tracking, tmp_path / "f.db")
    settings.api_key = None
    client = create_app(settings).test_client()
    assert client.post("/model/reload", headers={"X-API-Key": ""}).status_code == 401
    assert client.post("/model/reload", headers={"X-API-Key": "None"}).status_code == 401


def test_api_key_is_never_logged(tracking, tmp_path, caplog) -> None:
    caplog.set_level("DEBUG")
    app = create_app(make_settings(tracking, tmp_path / "f.db"))
    client = app.test_client()
    client.post("/model/reload", headers=KEY)
    client.post("/model/reload", headers={"X-API-Key": "wrong"})
    assert API_KEY not in caplog.text and API_KEY not in repr(app.extensions["sentiment_api"].settings)
