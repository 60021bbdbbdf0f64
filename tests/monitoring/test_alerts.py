"""Alerts: 3 flagged errors within 5 minutes send exactly one mail (real SMTP server) and one webhook
call (real HTTP receiver); 2 do not; the cool-down holds; the state survives a restart."""

from __future__ import annotations

import time
from datetime import timedelta

from api import create_app
from core.monitoring.alerts import RULE, AlertEngine
from core.monitoring.event_store import EventStore, PredictionRecord, now_utc, text_hash
from core.monitoring.settings import AlertConfig
from tests.monitoring.conftest import KEY, api_settings, wait_for

TWEETS = [
    "what a lovely crew, best flight ever",
    "so happy with the smooth boarding today",
    "thanks for the great service",
    "amazing legroom and friendly staff",
    "perfect landing, love this airline",
    "great food on board, thank you",
]


def _alerting_app(tracking, tmp_path, smtp_server, webhook, **rule):
    settings = api_settings(
        tracking,
        tmp_path / "events.db",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_to=("ops@airparadise.example",),
        webhook_url=webhook.url,
        **rule,
    )
    return create_app(settings)


def _flag_wrong(client, text: str) -> dict:
    """Predict ``text`` and send feedback with the opposite label (a flagged error)."""
    served = client.post("/predict", json={"text": text}).get_json()
    wrong = "positive" if served["label"] == "negative" else "negative"
    response = client.post(
        "/feedback", json={"prediction_id": served["prediction_id"], "correct_label": wrong}, headers=KEY
    )
    assert response.status_code == 201 and response.get_json()["prediction_was_correct"] is False
    return served


def test_three_flags_in_five_minutes_send_one_mail_and_one_webhook(tracking, tmp_path, smtp_server, webhook) -> None:
    app = _alerting_app(tracking, tmp_path, smtp_server, webhook)
    client = app.test_client()
    confirmed = client.post("/predict", json={"text": "my flight was delayed again"}).get_json()
    client.post(
        "/feedback",
        json={"prediction_id": confirmed["prediction_id"], "correct_label": confirmed["label"]},
        headers=KEY,
    )  # a confirmation is not an error
    served = [_flag_wrong(client, t) for t in TWEETS[:2]]
    time.sleep(0.3)  # give a wrongly sent alert time to arrive
    assert smtp_server.messages == [] and webhook.bodies == []  # 2 flags: no alert

    served.append(_flag_wrong(client, TWEETS[2]))
    assert wait_for(lambda: len(smtp_server.messages) == 1 and len(webhook.bodies) == 1)
    mail = smtp_server.messages[0]
    assert mail["To"] == "ops@airparadise.example"
    assert "3 misclassified tweets in the last 5 minutes" in mail["Subject"]
    body = mail.get_content()
    for text, answer in zip(TWEETS[:3], served, strict=True):
        assert text in body and answer["prediction_id"] in body
    path, payload = webhook.bodies[0]
    assert path == "/hooks/sentiment" and payload["rule"] == RULE
    assert [f["text"] for f in payload["flagged"]] == TWEETS[:3]
    assert {f["prediction_id"] for f in payload["flagged"]} == {s["prediction_id"] for s in served}

    # Cool-down (30 minutes by default): three more flags raise nothing, even after a restart,
    # because the alert state is read from the store.
    _flag_wrong(client, TWEETS[3])
    restarted = create_app(app.extensions["sentiment_api"].settings).test_client()
    _flag_wrong(restarted, TWEETS[4])
    _flag_wrong(restarted, TWEETS[5])
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1 and len(webhook.bodies) == 1
    assert app.extensions["sentiment_api"].store.counts()["alerts"] == 1


def test_alert_again_after_the_cooldown_and_rule_state_survives_restart(
    tracking, tmp_path, smtp_server, webhook
) -> None:
    app = _alerting_app(tracking, tmp_path, smtp_server, webhook, cooldown_minutes=1.0 / 60)  # one second
    client = app.test_client()
    for text in TWEETS[:3]:
        _flag_wrong(client, text)
    assert wait_for(lambda: len(smtp_server.messages) == 1)
    time.sleep(1.05)  # the one-second cool-down passes
    _flag_wrong(client, TWEETS[3])
    _flag_wrong(client, TWEETS[4])
    # Restart between the 2nd and 3rd flag: the two flags are counted from the store.
    restarted = create_app(app.extensions["sentiment_api"].settings).test_client()
    _flag_wrong(restarted, TWEETS[5])
    assert wait_for(lambda: len(smtp_server.messages) == 2 and len(webhook.bodies) == 2)
    second = webhook.bodies[1][1]
    assert [f["text"] for f in second["flagged"]] == TWEETS[3:6]  # only flags after the first alert


def _event(i: int, label: str = "positive") -> PredictionRecord:
    text = f"tweet {i}"
    return PredictionRecord(
        f"id{i}", now_utc().isoformat(), text, label, 0.3, "m", "1", 1.0, text_hash(text), len(text)
    )


def test_flags_outside_the_window_do_not_count(tmp_path) -> None:
    store = EventStore.for_sqlite(tmp_path / "events.db")
    store.record_predictions([_event(i) for i in range(3)])
    for i in range(3):
        store.record_feedback(f"id{i}", "negative")
    late = AlertEngine(AlertConfig(), store, notifiers=[], clock=lambda: now_utc() + timedelta(minutes=5, seconds=1))
    assert late.evaluate() is None  # the three flags are older than 5 minutes by then
    on_time = AlertEngine(AlertConfig(), store, notifiers=[], clock=lambda: now_utc() + timedelta(minutes=4))
    alert = on_time.evaluate()
    assert alert is not None and [f.prediction.id for f in alert.flagged] == ["id0", "id1", "id2"]
    assert "tweet 1" in alert.body()
