"""Monitoring page on a real SQLite event store seeded with two days of served predictions,
drift measured against the champion of the session's tiny trained store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.monitoring.event_store import EventStore, PredictionRecord, now_utc, text_hash
from tests.console.conftest import figures, open_console


def seed_events(path: Path) -> EventStore:
    """Two days of 120 predictions: the second day all confidently negative, on longer tweets."""
    store = EventStore.for_sqlite(path)
    start = now_utc() - pd.Timedelta(days=2)
    records = []
    for i in range(240):
        day = i // 120
        text = ("the flight was delayed " * (6 if day else 1)) + str(i)
        p = 0.97 if day else (i % 10) / 10 + 0.05
        created = (start + pd.Timedelta(days=day)).isoformat()
        label = "negative" if p >= 0.5 else "positive"
        records.append(PredictionRecord(f"e{i}", created, text, label, p, "m", "1", 1.0, text_hash(text), len(text)))
    store.record_predictions(records)
    store.dispose()
    return store


def test_monitoring_shows_volume_quality_and_drift(
    trained_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = seed_events(tmp_path / "events.db")
    monkeypatch.setenv("EVENT_STORE_URL", store.url)
    at = open_console(monkeypatch, trained_uri, "Monitoring")
    assert not at.error, [e.value for e in at.error]
    assert at.text_input(key="event_store").value == store.url
    assert at.caption[0].value.startswith("240 prediction events · drift reference: validation split of")
    assert any("PSI of prediction scores" in w.value for w in at.warning)

    daily = at.dataframe[1].value
    assert list(daily["predictions"]) == [120, 120]
    assert daily["drift"].iloc[1] == "alert" and daily["psi_score"].iloc[1] > 0.25
    charts = figures(at)
    assert {f"{p}_{k}" for p in ("daily", "weekly") for k in ("volume", "quality", "drift")} <= set(charts)
    assert list(charts["daily_volume"][0].y) == [120, 120]
    assert list(charts["daily_drift"][0].y) == pytest.approx(list(daily["psi_score"]), nan_ok=True)


def test_no_event_store_yet_says_what_to_do(trained_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_FEEDBACK_DB", str(tmp_path / "none-yet.db"))
    monkeypatch.delenv("EVENT_STORE_URL", raising=False)
    at = open_console(monkeypatch, trained_uri, "Monitoring")
    assert not at.exception and not at.error
    assert at.info[0].value.startswith("No prediction events yet")
    assert not (tmp_path / "none-yet.db").exists()  # looking does not create the store
