"""Simulate a month of traffic through the running API, with user feedback, then print the alerts
raised and the drift tables.

Not a test: it drives a real API over HTTP (start one first, e.g. gunicorn on loopback) and reads
the API's event store. Each simulated day sends that day's tweets in batches to ``POST /predict``;
"reviewers" check a share of the answers against the tweet's real label and send ``POST /feedback``
(a correction when the model was wrong). Days ``--incident`` simulate a bad buzz: twice the volume,
85% of tweets from another source (NLTK ``twitter_samples``, emoticons stripped, 70% negative) that the
model gets wrong more often, and more reviews. Alerts are raised by the API itself, in real time:
scale its rule to the simulated clock, e.g. with 2 s per simulated day::

    ALERT_WINDOW_MINUTES=0.05 ALERT_COOLDOWN_MINUTES=0.2 ALERT_WEBHOOK_URL=http://127.0.0.1:9109/hook \\
        API_KEY=k gunicorn -b 127.0.0.1:8000 -w 1 --threads 4 "api:create_app()"
    python scripts/simulate_traffic.py --api http://127.0.0.1:8000 --api-key k --seconds-per-day 2 \\
        --webhook-port 9109

The drift tables use the simulated dates (the API stamps events with the real clock, so the script
maps each prediction id to its simulated day); PSI is computed against the champion's validation split.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd

from core.config import DEFAULT_DATA_PATH, DEFAULT_EVENT_DB, DataConfig, PipelineConfig
from core.data.loading import LABEL_NAMES, load_sentiment140, load_twitter_samples
from core.errors import CoreError
from core.monitoring.drift import reference_from_champion
from core.monitoring.event_store import EventStore
from core.monitoring.report import build_report, format_table


@dataclass
class Tally:
    """What the simulation sent and when."""

    day_of: dict[str, int] = field(default_factory=dict)
    """prediction id -> simulated day."""
    day_started: list[float] = field(default_factory=list)
    """monotonic time at which each simulated day started."""
    predictions: int = 0
    feedback: int = 0
    flags: int = 0
    errors: int = 0


def _call(api: str, path: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    request = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _pools(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everyday tweets (Sentiment140) and bad-buzz tweets (mostly negative, another source)."""
    normal = load_sentiment140(DEFAULT_DATA_PATH).sample(frac=1.0, random_state=seed)
    ood = load_twitter_samples(DataConfig().resolved_nltk_data(), seed=seed)
    ood = ood[ood["text"].str.len() >= 20]
    negatives, positives = ood[ood["label"] == 1], ood[ood["label"] == 0]
    buzz = pd.concat([negatives.sample(2100, random_state=seed), positives.sample(900, random_state=seed)])
    return normal.reset_index(drop=True), buzz.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _day_volume(day: int, base: int, incident: set[int], rng: random.Random) -> int:
    weekend = 0.7 if day % 7 in (5, 6) else 1.0
    return int(base * weekend * (2.0 if day in incident else 1.0) * rng.uniform(0.85, 1.15))


def simulate(args: argparse.Namespace, tally: Tally) -> None:
    """Replay the month through the API."""
    rng = random.Random(args.seed)
    normal, buzz = _pools(args.seed)
    cursor = {"normal": 0, "buzz": 0}
    for day in range(args.days):
        tally.day_started.append(time.monotonic())
        in_incident = day in args.incident
        review_rate = args.incident_review_rate if in_incident else args.review_rate
        todo = []
        for _ in range(_day_volume(day, args.tweets_per_day, args.incident, rng)):
            pool_name = "buzz" if in_incident and rng.random() < 0.85 else "normal"
            pool = buzz if pool_name == "buzz" else normal
            row = pool.iloc[cursor[pool_name] % len(pool)]
            cursor[pool_name] += 1
            todo.append((row["text"], LABEL_NAMES[int(row["label"])]))
        for start in range(0, len(todo), args.batch):
            batch = todo[start : start + args.batch]
            status, body = _call(args.api, "/predict", {"texts": [t for t, _ in batch]})
            if status != 200:
                tally.errors += 1
                continue
            for (_, truth), answer in zip(batch, body["predictions"], strict=True):
                tally.predictions += 1
                tally.day_of[answer["prediction_id"]] = day
                if rng.random() < review_rate:
                    status, _ = _call(
                        args.api,
                        "/feedback",
                        {"prediction_id": answer["prediction_id"], "correct_label": truth},
                        args.api_key,
                    )
                    tally.feedback += status == 201
                    tally.flags += status == 201 and answer["label"] != truth
                    tally.errors += status != 201
        remaining = tally.day_started[-1] + args.seconds_per_day - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)


def _webhook_receiver(port: int) -> tuple[ThreadingHTTPServer, list[tuple[float, dict]]]:
    received: list[tuple[float, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append((time.monotonic(), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def _sim_day(tally: Tally, at: float) -> int:
    return max((d for d, t in enumerate(tally.day_started) if t <= at), default=0)


def _wait_for_events(api: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(api + "/monitoring", timeout=10) as response:
            if json.loads(response.read())["events"]["queued"] == 0:
                return
        time.sleep(0.2)


def _store(url: str | None) -> EventStore:
    url = url or os.environ.get("EVENT_STORE_URL")
    if url:
        return EventStore(url)
    return EventStore.for_sqlite(Path(os.environ.get("API_FEEDBACK_DB") or DEFAULT_EVENT_DB))


def report(args: argparse.Namespace, tally: Tally, started_at: datetime, received: list) -> None:
    """Print the alerts raised during the run and the drift tables on the simulated calendar."""
    _wait_for_events(args.api)
    store = _store(args.store)
    alerts = store.alerts_frame()
    alerts = alerts[alerts["created_at"] >= started_at]
    print(
        f"\nSent {tally.predictions} predictions over {args.days} simulated days, {tally.feedback} feedback "
        f"({tally.flags} flagged errors), {tally.errors} failed calls."
    )
    print(f"\nAlerts raised by the API ({len(alerts)}; rule state in the event store):")
    t0_wall = started_at.timestamp()
    t0_mono = tally.day_started[0]
    for row in alerts.itertuples():
        day = _sim_day(tally, t0_mono + (row.created_at.timestamp() - t0_wall))
        print(f"  alert {row.id} at {row.created_at:%H:%M:%S} UTC (simulated day {day + 1}): {row.flagged_count} flags")
    if args.webhook_port:
        print(f"Webhook calls received: {len(received)}")
        for at, body in received:
            flagged = body["flagged"]
            print(f"  day {_sim_day(tally, at) + 1}: {body['summary']}; first: {flagged[0]['text'][:70]!r}")

    frame = store.predictions_frame(since=started_at - timedelta(seconds=5))
    frame = frame[frame["id"].isin(tally.day_of)].copy()
    first_day = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=args.days)
    frame["created_at"] = [first_day + timedelta(days=tally.day_of[i]) for i in frame["id"]]
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    reference = None
    try:
        reference = reference_from_champion(PipelineConfig())
    except CoreError as exc:
        print(f"PSI not computed: {exc}")
    result = build_report(frame, reference)
    print(f"\nDrift reference: {result.reference_source}")
    print(f"\nPer week (simulated calendar):\n{format_table(result.weekly)}")
    print(f"\nPer day (simulated calendar):\n{format_table(result.daily)}")
    print("\n" + ("\n".join(result.warnings) if result.warnings else "No drift warning."))
    output = args.output_dir
    output.mkdir(parents=True, exist_ok=True)
    result.daily.to_csv(output / "daily.csv", index=False)
    result.weekly.to_csv(output / "weekly.csv", index=False)
    for name, figure in result.figures.items():
        figure.write_html(output / f"{name}.html", include_plotlyjs="directory")
    print(f"\nwritten: {output}/daily.csv, weekly.csv and one HTML figure per chart")


def _days(text: str) -> set[int]:
    low, _, high = text.partition("-")
    return set(range(int(low) - 1, int(high or low)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--api-key", default=os.environ.get("API_KEY"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--tweets-per-day", type=int, default=200)
    parser.add_argument("--incident", type=_days, default=_days("22-25"), help="bad-buzz days, e.g. 22-25")
    parser.add_argument("--review-rate", type=float, default=0.01, help="share of answers users check")
    parser.add_argument("--incident-review-rate", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--seconds-per-day", type=float, default=0.0, help="pace: real seconds per simulated day")
    parser.add_argument("--webhook-port", type=int, help="receive the API's alert webhooks on this loopback port")
    parser.add_argument("--store", help="the API's event store URL (default: as the API: $EVENT_STORE_URL, ...)")
    parser.add_argument("--output-dir", type=Path, default=Path("reports/simulation"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    received: list = []
    if args.webhook_port:
        _, received = _webhook_receiver(args.webhook_port)
    tally = Tally()
    started_at = datetime.now(UTC)
    start = time.monotonic()
    simulate(args, tally)
    print(f"Replayed in {time.monotonic() - start:.1f} s against {args.api}.")
    report(args, tally, started_at, received)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
