"""Crash durability: feedback streams into gunicorn (2 workers, SQLite WAL store), master and workers are
SIGKILLed mid-stream, gunicorn restarts on the same store: every feedback that got a 201 is there, and the
alert rule's state (the alert raised before the crash, its cool-down) is read back from the store."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from core.monitoring.alerts import RULE
from core.monitoring.event_store import EventStore
from core.tracking.setup import resolve_tracking_uri
from tests.api.conftest import API_KEY
from tests.harness import free_port, gunicorn_command, request, wait_until_ok

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

KEY = {"X-API-Key": API_KEY}


def _start(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        gunicorn_command(port, 2, 4),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: master and workers are killed together
    )


def _kill_group(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(timeout=30)


def _group_gone(pgid: int, deadline_s: float = 15) -> bool:
    """Whether every process of the group has exited (orphaned workers are reaped by init shortly after)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_acknowledged_feedback_and_alert_state_survive_sigkill(tracking, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    env = dict(os.environ)
    env.update(
        MLFLOW_TRACKING_URI=resolve_tracking_uri(tracking),
        API_FEEDBACK_DB=str(db),
        API_KEY=API_KEY,
        API_RATE_LIMIT_PER_MINUTE="0",
        ALERT_MIN_ERRORS="3",
        ALERT_WINDOW_MINUTES="60",
        ALERT_COOLDOWN_MINUTES="60",
    )
    store = EventStore.for_sqlite(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(env, port)
    try:
        wait_until_ok(f"{base}/ready", server)
        status, body = request(f"{base}/predict", {"texts": [f"lost my bag on flight {i}" for i in range(200)]})
        assert status == 200
        served = [(p["prediction_id"], p["label"]) for p in body["predictions"]]
        deadline = time.monotonic() + 30  # events are written off the request path: wait until stored
        while store.counts()["predictions"] < len(served) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.counts()["predictions"] == len(served)

        acknowledged: list[str] = []
        stop = threading.Event()

        def stream() -> None:  # one flagged error every 10 ms, until the server dies
            for prediction_id, label in served:
                if stop.is_set():
                    return
                wrong = "positive" if label == "negative" else "negative"
                try:
                    status, _ = request(
                        f"{base}/feedback", {"prediction_id": prediction_id, "correct_label": wrong}, KEY, timeout=5
                    )
                except OSError:
                    continue  # the server is gone: not acknowledged, nothing promised
                if status == 201:
                    acknowledged.append(prediction_id)
                time.sleep(0.01)

        sender = threading.Thread(target=stream)
        sender.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 40 and time.monotonic() < deadline and sender.is_alive():
            time.sleep(0.01)
        _kill_group(server)  # SIGKILL master and workers mid-stream: no shutdown hook runs
        killed_after = len(acknowledged)
        stop.set()
        sender.join(timeout=30)
        assert killed_after >= 40 and _group_gone(server.pid)
        assert len(acknowledged) < len(served), "the stream should have been cut by the kill"
    finally:
        _kill_group(server)

    # What the crashed server acknowledged is on disk (a fresh process reads the WAL database).
    stored = EventStore.for_sqlite(db)
    missing = [p for p in acknowledged if not stored.feedback_for(p)]
    assert missing == [], f"{len(missing)} acknowledged feedbacks lost"
    alerts_before = stored.counts()["alerts"]
    last_alert = stored.last_alert_at(RULE)
    assert alerts_before == 1 and last_alert is not None  # 3 flags raised one alert, then the cool-down held

    server = _start(env, port)
    try:
        wait_until_ok(f"{base}/ready", server)
        for prediction_id, label in served[-3:]:  # three more flagged errors within the cool-down
            wrong = "positive" if label == "negative" else "negative"
            assert request(f"{base}/feedback", {"prediction_id": prediction_id, "correct_label": wrong}, KEY)[0] == 201
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(server)
    after = EventStore.for_sqlite(db)
    assert after.counts()["alerts"] == alerts_before  # the restarted API knew it was cooling down
    assert after.last_alert_at(RULE) == last_alert


def test_regression_concurrent_first_use_of_a_new_store_never_fails(tmp_path: Path) -> None:
    # Found by the test above: two gunicorn workers creating the tables at once lost the first events
    # ("table predictions already exists"). Eight stores on one new file, opened at the same instant.
    stores = [EventStore.for_sqlite(tmp_path / "new.db") for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def first_use(store: EventStore) -> None:
        barrier.wait()
        try:
            store.check()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
