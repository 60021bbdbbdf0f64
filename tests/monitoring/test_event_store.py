"""The event store writes and reads back the same events on SQLite (WAL) and on a real PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from core.monitoring.event_store import EventStore, PredictionNotFoundError, PredictionRecord, now_utc, text_hash


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> EventStore:
    if request.param == "sqlite":
        return EventStore.for_sqlite(tmp_path / "events.db")
    postgres = request.getfixturevalue("postgres")
    return EventStore(postgres.create_database(f"events_{tmp_path.name[-20:].lower().replace('-', '_')}"))


def _record(i: int, label: str = "negative", text: str | None = None) -> PredictionRecord:
    text = text or f"tweet number {i} about a delayed flight"
    return PredictionRecord(
        id=f"p{i:03d}",
        created_at=(now_utc() - timedelta(seconds=100 - i)).isoformat(),
        text=text,
        label=label,
        probability_negative=0.9 if label == "negative" else 0.2,
        model_name="air-paradise-sentiment",
        model_version="3",
        latency_ms=1.5,
        text_hash=text_hash(text),
        text_length=len(text),
    )


def test_events_round_trip(store: EventStore) -> None:
    records = [_record(i, "negative" if i % 2 else "positive") for i in range(6)]
    store.record_predictions(records)
    store.record_predictions(records[:2])  # already stored ids are skipped, not an error
    assert store.get_prediction("p003") == records[3]
    assert store.get_prediction("nope") is None

    store.record_feedback("p001", "positive")  # served negative: a flagged error
    store.record_feedback("p002", "positive")  # served positive: confirmed
    store.record_feedback("p003", "positive")
    store.record_feedback("p003", "positive")  # flagged twice, counts once
    with pytest.raises(PredictionNotFoundError):
        store.record_feedback("missing", "negative")
    assert [f.correct_label for f in store.feedback_for("p003")] == ["positive", "positive"]

    flagged = store.flagged_errors(now_utc() - timedelta(minutes=1))
    assert [f.prediction.id for f in flagged] == ["p001", "p003"]
    assert flagged[0].prediction.text == records[1].text and flagged[0].correct_label == "positive"
    assert store.flagged_errors(now_utc() + timedelta(seconds=1)) == []

    frame = store.predictions_frame()
    assert list(frame["id"]) == [r.id for r in records]  # oldest first
    assert frame.set_index("id")["correct_label"].dropna().to_dict() == {
        "p001": "positive",
        "p002": "positive",
        "p003": "positive",
    }
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert store.counts() == {"predictions": 6, "feedback": 4, "alerts": 0}


def test_alert_state_is_claimed_once_per_cooldown(store: EventStore) -> None:
    now = now_utc()
    assert store.last_alert_at("rule") is None
    assert store.claim_alert("rule", now, cooldown_start=now - timedelta(minutes=30))
    assert not store.claim_alert("rule", now + timedelta(minutes=1), cooldown_start=now - timedelta(minutes=29))
    assert store.last_alert_at("rule") == now
    later = now + timedelta(minutes=31)
    assert store.claim_alert("rule", later, cooldown_start=later - timedelta(minutes=30))
    store.record_alert("rule", later, ["a", "b", "c"])
    alerts = store.alerts_frame()
    assert list(alerts["flagged_count"]) == [3] and alerts["prediction_ids"][0] == '["a", "b", "c"]'


def test_sqlite_store_is_in_wal_mode(tmp_path) -> None:
    store = EventStore.for_sqlite(tmp_path / "sub" / "events.db")
    store.record_predictions([_record(1)])
    with sqlite3.connect(tmp_path / "sub" / "events.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_old_schema_is_kept_aside(tmp_path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE predictions (id TEXT PRIMARY KEY, created_at TEXT, text TEXT)")
        conn.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, prediction_id TEXT)")
        conn.execute("INSERT INTO predictions VALUES ('old', '2026-01-01', 'x')")
    store = EventStore.for_sqlite(db)
    store.record_predictions([_record(1)])
    assert store.counts()["predictions"] == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id FROM predictions_v1").fetchall() == [("old",)]
