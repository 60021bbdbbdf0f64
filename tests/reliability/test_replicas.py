"""Serving replicas are stateless: two API processes (gunicorn, one port each, as two Azure Container Apps
replicas are) share one PostgreSQL event store and lose nothing under load; the rate limit is per replica.

- Under 15 s of mixed load (``scripts/load_test.py``'s clients, each sending its calls to the two replicas in
  turn, as the ingress does), then a SIGTERM to both (a scale-in): every prediction id answered 200 is in the
  store exactly once, every feedback answered 201 likewise, and nothing else is there.
- A replica stopped by SIGTERM writes the events it still holds before it exits.
- Feedback sent to the *other* replica right after a prediction may find its event not written yet (events
  are written off the request path): that replica waits for it (at most ``REPLICA_LAG_S`` after the id
  was issued) and records it: 201 at the first try.
- The rate limit's buckets live in each replica: two replicas let one client through twice the burst.

See docs/reliability.md ("Replicas") and docs/scaling.md.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.config import PROJECT_ROOT, TrackingConfig
from core.monitoring.event_store import EventStore, feedback, predictions
from core.tracking.setup import resolve_tracking_uri
from scripts.load_test import run_load
from tests.api.conftest import API_KEY
from tests.harness import background, free_port, gunicorn_command, request, wait_until_ok
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

KEY = {"X-API-Key": API_KEY}
LOAD_S = 15.0
CLIENTS = 8
CONSISTENCY_BOUND_S = 2.0
"""How long a prediction's event may take to reach the shared store (a feedback retried that long succeeds)."""


def _env(tracking: TrackingConfig, tmp_path: Path, store_url: str | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("EVENT_STORE_URL", None)
    env.update(
        MLFLOW_TRACKING_URI=resolve_tracking_uri(tracking),
        API_KEY=API_KEY,
        API_FEEDBACK_DB=str(tmp_path / "events.db"),  # used only when no store URL is given
        API_RATE_LIMIT_PER_MINUTE="0",  # every client shares one address here
    )
    env.update(extra)
    if store_url:
        env["EVENT_STORE_URL"] = store_url
    return env


@contextmanager
def replicas(env: dict[str, str], tmp_path: Path, count: int = 2) -> Iterator[list[str]]:
    """``count`` API processes (gunicorn, 1 worker x 4 threads) on their own loopback ports, started together
    and ready; each stopped with SIGTERM on exit (then SIGKILL after a grace period, as the platform does)."""
    with ExitStack() as stack:
        started = []
        for i in range(count):
            port, log = free_port(), tmp_path / f"replica-{i}.log"
            process = stack.enter_context(background(gunicorn_command(port), log, cwd=PROJECT_ROOT, env=env))
            started.append((f"http://127.0.0.1:{port}", process, log))
        for base, process, log in started:
            wait_until_ok(f"{base}/ready", process, log)
        yield [base for base, _, _ in started]


@pytest.fixture
def events_url(postgres: PostgresServer) -> str:
    """A new, empty event database on the session's PostgreSQL."""
    return postgres.create_database(f"replicas_{uuid.uuid4().hex[:12]}")


def _stored(url: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    store = EventStore(url)
    try:
        store.check()  # creates the tables if no replica has written yet
        with store.engine.connect() as conn:
            ids = list(conn.execute(sa.select(predictions.c.id)).scalars())
            rows = conn.execute(sa.select(feedback.c.id, feedback.c.prediction_id, feedback.c.correct_label)).all()
    finally:
        store.dispose()
    return ids, sorted(tuple(r) for r in rows)


def test_two_replicas_on_one_store_lose_no_event_and_no_feedback(tracking, events_url: str, tmp_path: Path) -> None:
    with replicas(_env(tracking, tmp_path, events_url), tmp_path) as bases:
        results, _ = run_load(bases, API_KEY, CLIENTS, LOAD_S)
        counters = [request(f"{base}/monitoring")[1]["events"] for base in bases]
    # Both replicas got SIGTERM and exited (a scale-in): whatever they still had queued is written by now.

    assert all(c["written"] + c["queued"] > 100 for c in counters), counters  # both carried load
    assert all(c["dropped"] == 0 and c["failed"] == 0 for c in counters), counters
    assert not results.errors and not results.not_found, dict(results.errors)  # no refusal, 404s included
    assert len(results.predictions) > 1_000 and len(results.feedback) > 50, (
        len(results.predictions),
        len(results.feedback),
    )

    served = results.predictions
    assert len(set(served)) == len(served), "two answers carried the same prediction id"
    stored_ids, stored_feedback = _stored(events_url)
    assert len(stored_ids) == len(set(stored_ids))
    lost = set(served) - set(stored_ids)
    assert not lost, f"{len(lost)} of {len(served)} answered predictions are not in the store"
    assert set(stored_ids) == set(served), "the store holds predictions nobody was answered"

    acknowledged = sorted((f.feedback_id, f.prediction_id, f.correct_label) for f in results.feedback)
    assert stored_feedback == acknowledged  # each 201 exactly once, with its prediction and label; nothing else


def test_feedback_on_another_replica_is_recorded_once_the_event_is_written(
    tracking, events_url: str, tmp_path: Path
) -> None:
    """The worst case for a round-robin balancer: the prediction on one replica, its feedback at once on the other."""
    pairs = 100
    first_try: dict[int, int] = {}
    waits: list[float] = []
    acknowledged: list[tuple[int, str, str]] = []
    with replicas(_env(tracking, tmp_path, events_url), tmp_path) as (a, b):
        for i in range(pairs):
            status, body = request(f"{a}/predict", {"text": f"lost my bag on flight {i}, again"})
            assert status == 200
            sent = {"prediction_id": body["prediction_id"], "correct_label": "negative"}
            answered = time.monotonic()
            status, recorded = request(f"{b}/feedback", sent, KEY)
            first_try[status] = first_try.get(status, 0) + 1
            while status == 404 and time.monotonic() - answered < CONSISTENCY_BOUND_S:
                time.sleep(0.02)
                status, recorded = request(f"{b}/feedback", sent, KEY)
            assert status == 201, (status, recorded)
            waits.append(time.monotonic() - answered)
            acknowledged.append((recorded["feedback_id"], sent["prediction_id"], "negative"))

    assert first_try == {201: pairs}, first_try  # the other replica waited for the event instead of a 404
    assert max(waits) < CONSISTENCY_BOUND_S
    stored_ids, stored_feedback = _stored(events_url)
    assert len(stored_ids) == pairs and stored_feedback == sorted(acknowledged)  # a 404 wrote nothing


def test_scale_in_writes_the_events_a_replica_still_holds(tracking, events_url: str, tmp_path: Path) -> None:
    """A replica stopped by SIGTERM (a scale-in, a new revision) writes its queued events before it exits."""
    env = _env(tracking, tmp_path, events_url, API_EVENT_WRITE_DELAY_MS="3000")  # each write waits 3 s
    with replicas(env, tmp_path, count=1) as (base,):
        status, body = request(f"{base}/predict", {"texts": [f"delayed again, flight {i}" for i in range(50)]})
        assert status == 200
        served = [p["prediction_id"] for p in body["predictions"]]
        assert _stored(events_url)[0] == [] and request(f"{base}/monitoring")[1]["events"]["written"] == 0
    # SIGTERM now, well before the 3 s write: only the exit hook's flush can have stored them.
    assert sorted(_stored(events_url)[0]) == sorted(served)


def test_rate_limit_is_per_replica(tracking, tmp_path: Path) -> None:
    """Each replica keeps its own buckets: one client gets ``burst`` from each, so 2 x ``burst`` across two."""
    burst = 5
    env = _env(tracking, tmp_path, None, API_RATE_LIMIT_PER_MINUTE="1", API_RATE_LIMIT_BURST=str(burst))
    with replicas(env, tmp_path) as bases:
        statuses: dict[str, list[int]] = {base: [] for base in bases}
        for i in range(4 * burst):  # in turn, as the ingress spreads one client's calls
            base = bases[i % len(bases)]
            statuses[base].append(request(f"{base}/predict", {"text": "where is my bag"})[0])
        probes = [request(f"{base}/ready")[0] for base in bases]

    for answers in statuses.values():
        assert set(answers) == {200, 429}
        assert answers.count(200) == burst  # 1 a minute refills nothing during the test
        assert answers[:burst] == [200] * burst  # the bucket was full, then empty
    assert sum(a.count(200) for a in statuses.values()) == 2 * burst
    assert probes == [200, 200]  # probes are never limited
