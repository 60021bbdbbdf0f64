"""The API records an event per predicted tweet off the request path and never fails a prediction for it."""

from __future__ import annotations

import time

from api import create_app
from api.openapi import openapi_document
from core.monitoring.event_store import text_hash
from tests.api.schema_check import errors
from tests.harness import free_port
from tests.monitoring.conftest import KEY, api_settings, wait_for

TWEETS = ["lost my bag again, worst airline", "lovely crew, smooth flight", "delayed for five hours"]


def _predict_batch(client, texts=TWEETS) -> list[dict]:
    response = client.post("/predict", json={"texts": texts})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["predictions"]


def test_every_predicted_tweet_is_an_event(tracking, tmp_path) -> None:
    app = create_app(api_settings(tracking, tmp_path / "events.db"))
    client = app.test_client()
    served = _predict_batch(client)
    events = app.extensions["sentiment_api"].events
    assert events.recorder.flush(10)
    frame = events.store.predictions_frame().set_index("id")
    for text, answer in zip(TWEETS, served, strict=True):
        row = frame.loc[answer["prediction_id"]]
        assert (row["text"], row["label"]) == (text, answer["label"])
        assert row["probability_negative"] == answer["probability_negative"]
        assert row["model_version"] == answer["model"]["version"] and row["latency_ms"] > 0
        assert row["text_length"] == len(text) and row["text_hash"] == text_hash(text)
    stats = client.get("/monitoring").get_json()
    assert stats["events"] == {"queued": 0, "written": 3, "dropped": 0, "failed": 0}
    schema = openapi_document()["paths"]["/monitoring"]["get"]["responses"]["200"]["content"]["application/json"]
    assert not errors(stats, schema["schema"], openapi_document())


def test_hash_privacy_mode_stores_no_text(tracking, tmp_path) -> None:
    settings = api_settings(tracking, tmp_path / "events.db")
    settings.monitoring.text_mode = "hash"
    app = create_app(settings)
    served = _predict_batch(app.test_client())
    store = app.extensions["sentiment_api"].events.store
    assert app.extensions["sentiment_api"].events.recorder.flush(10)
    frame = store.predictions_frame()
    assert frame["text"].isna().all()
    assert set(frame["text_hash"]) == {text_hash(t) for t in TWEETS}
    assert store.get_prediction(served[0]["prediction_id"]).text is None


def test_a_broken_store_never_fails_a_prediction(tracking, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    stores = {
        "sqlite under a regular file": api_settings(tracking, blocker / "events.db"),
        "postgresql nobody listens to": api_settings(
            tracking, tmp_path / "x.db", store_url=f"postgresql://postgres@127.0.0.1:{free_port()}/events"
        ),
    }
    for name, settings in stores.items():
        app = create_app(settings)
        client = app.test_client()
        served = _predict_batch(client)
        assert len(served) == 3, name
        assert client.post("/predict", json={"text": "late again"}).status_code == 200, name
        assert wait_for(lambda c=client: c.get("/monitoring").get_json()["events"]["failed"] == 4), name
        feedback = client.post(
            "/feedback", json={"prediction_id": served[0]["prediction_id"], "correct_label": "positive"}, headers=KEY
        )
        assert feedback.status_code == 503, name
        assert "event store is unavailable" in feedback.get_json()["error"], name


def test_a_slow_store_keeps_predictions_fast_and_drops_are_counted(tracking, tmp_path) -> None:
    settings = api_settings(tracking, tmp_path / "events.db")
    settings.monitoring.write_delay_ms = 800  # every batch write takes 0.8 s more
    settings.monitoring.queue_size = 5
    app = create_app(settings)
    client = app.test_client()
    client.post("/predict", json={"text": "warm up"})  # loads lazily-built parts once
    start = time.perf_counter()
    for i in range(10):
        assert client.post("/predict", json={"text": f"delayed flight number {i}"}).status_code == 200
    elapsed = time.perf_counter() - start
    assert elapsed < 0.8, elapsed  # ten predictions in less time than one slow write
    events = app.extensions["sentiment_api"].events
    assert events.recorder.flush(10)
    stats = events.stats()["events"]
    assert stats["dropped"] > 0 and stats["written"] + stats["dropped"] == 11 and stats["failed"] == 0
    assert events.store.counts()["predictions"] == stats["written"]


def test_feedback_right_after_a_queued_prediction_is_stored_with_it(tracking, tmp_path) -> None:
    settings = api_settings(tracking, tmp_path / "events.db")
    settings.monitoring.write_delay_ms = 300  # the prediction is still queued when the feedback comes
    app = create_app(settings)
    client = app.test_client()
    served = client.post("/predict", json={"text": "great crew"}).get_json()
    response = client.post(
        "/feedback", json={"prediction_id": served["prediction_id"], "correct_label": "negative"}, headers=KEY
    )
    assert response.status_code == 201
    store = app.extensions["sentiment_api"].events.store
    store.pending_lookup = None  # read the database itself
    assert store.get_prediction(served["prediction_id"]).label == served["label"]
    assert app.extensions["sentiment_api"].events.recorder.flush(10)
    assert store.counts()["predictions"] == 1 and store.counts()["feedback"] == 1


def test_monitoring_settings_come_from_the_environment(tmp_path) -> None:
    import pytest

    from api import ApiSettings
    from core.errors import ConfigError

    env = {
        "API_FEEDBACK_DB": str(tmp_path / "f.db"),
        "EVENT_STORE_URL": "postgresql://u@db.example:5432/events",
        "EVENT_STORE_TEXT": "hash",
        "API_EVENT_QUEUE_SIZE": "50",
        "API_EVENT_WRITE_DELAY_MS": "2.5",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=k",
        "ALERT_MIN_ERRORS": "4",
        "ALERT_WINDOW_MINUTES": "10",
        "ALERT_COOLDOWN_MINUTES": "60",
        "ALERT_SMTP_HOST": "smtp.example",
        "ALERT_SMTP_PORT": "587",
        "ALERT_SMTP_STARTTLS": "true",
        "ALERT_SMTP_PASSWORD": "s3cret",
        "ALERT_MAIL_TO": "a@example.com, b@example.com",
        "ALERT_WEBHOOK_URL": "https://hooks.example/x",
    }
    m = ApiSettings.from_env(env).monitoring
    assert (m.store_url, m.text_mode, m.queue_size, m.write_delay_ms) == (env["EVENT_STORE_URL"], "hash", 50, 2.5)
    assert m.resolved_store_url == env["EVENT_STORE_URL"] and m.connection_string == "InstrumentationKey=k"
    a = m.alerts
    assert (a.min_errors, a.window_minutes, a.cooldown_minutes) == (4, 10.0, 60.0)
    assert (a.smtp_host, a.smtp_port, a.smtp_starttls) == ("smtp.example", 587, True)
    assert a.mail_to == ("a@example.com", "b@example.com") and a.webhook_url == "https://hooks.example/x"
    assert "s3cret" not in repr(m) and "InstrumentationKey" not in repr(m)
    default = ApiSettings.from_env({"API_FEEDBACK_DB": str(tmp_path / "f.db")}).monitoring
    assert default.resolved_store_url == f"sqlite:///{(tmp_path / 'f.db').resolve()}"
    for bad in ({"EVENT_STORE_TEXT": "plain"}, {"ALERT_WINDOW_MINUTES": "five"}, {"ALERT_SMTP_HOST": "smtp.example"}):
        with pytest.raises(ConfigError):
            ApiSettings.from_env(bad)
