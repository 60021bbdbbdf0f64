"""Load test (not a test of the suite): N concurrent clients for T seconds against the API under gunicorn
on loopback, mixing single predictions, batches and feedback; prints requests/s, tweets/s, p50/p95/p99 and errors.

It starts gunicorn itself twice on the same model: once as configured, once with a slow event store
(``API_EVENT_WRITE_DELAY_MS``), to show that prediction latency does not depend on the store (events
are written off the request path). ``--url`` runs one pass against an API that is already running; given
several times (replicas), each client sends its calls to them in turn, as a load balancer would.

    .venv/bin/python -m scripts.load_test                                   # champion of .mlflow/, 20 x 60 s
    .venv/bin/python -m scripts.load_test --tracking-uri sqlite:////tmp/store/mlflow.db --duration 30
    .venv/bin/python -m scripts.load_test --url http://127.0.0.1:8000 --api-key "$API_KEY"
    .venv/bin/python -m scripts.load_test --url http://127.0.0.1:8000 --url http://127.0.0.1:8001 --api-key "$API_KEY"

Each client is a thread with its own HTTP session (keep-alive); 70% of its calls are one tweet, 20% a
batch of 16, 10% feedback on one of its own earlier predictions. An error is any answer that is not 2xx,
or no answer. The rate limit is switched off in the servers it starts (one address sends everything).
The acknowledged ids are kept (:class:`Results`), so a test can look each one up in the event store afterwards
(``tests/reliability/test_replicas.py``).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.harness import free_port, percentile  # one percentile convention with the tests

ROOT = Path(__file__).resolve().parents[1]

TWEETS = [
    "lost my bag again, third time this month",
    "great crew on the flight to boston, thanks!",
    "delayed 4 hours and nobody tells us anything",
    "the new seats are so comfortable",
    "worst customer service ever, on hold for an hour",
    "landed early, smooth flight",
    "why is my flight cancelled without notice??",
    "love the free wifi on board",
    "gate changed twice, ran across the whole airport",
    "friendly staff at check-in made my day",
    "my connection is missed and the app crashes",
    "upgraded to business, best birthday ever",
    "@airparadise where is my refund",
    "food was cold and the toilets were dirty",
    "thank you for finding my lost suitcase so quickly",
    "not impressed, the flight was overbooked again",
]
MIX = (("single", 0.7), ("batch", 0.2), ("feedback", 0.1))
BATCH_SIZE = 16


@dataclass(frozen=True)
class Acknowledged:
    """A feedback the API answered 201 to: its id, the prediction it is about, the label sent."""

    feedback_id: int
    prediction_id: str
    correct_label: str


@dataclass
class Results:
    """Latencies (ms) per call kind, errors by reason, and what the API acknowledged."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predictions: list[str] = field(default_factory=list)
    """The ``prediction_id`` of every tweet scored in a 200 answer, single or in a batch."""
    feedback: list[Acknowledged] = field(default_factory=list)
    """Every feedback answered 201."""
    not_found: list[str] = field(default_factory=list)
    """Prediction ids whose feedback was answered 404 (unknown to the replica that got it)."""

    def merge(self, other: Results) -> None:
        for kind, values in other.latencies.items():
            self.latencies[kind].extend(values)
        for reason, count in other.errors.items():
            self.errors[reason] += count
        self.predictions.extend(other.predictions)
        self.feedback.extend(other.feedback)
        self.not_found.extend(other.not_found)


def client_loop(bases: Sequence[str], api_key: str, deadline: float, seed: int) -> Results:
    """One client: calls until ``deadline``, never more than one at a time, each to the next of ``bases``
    in turn (several replicas behind a round-robin balancer; one keep-alive session per replica)."""
    rng = random.Random(seed)
    sessions = [requests.Session() for _ in bases]
    results = Results()
    served: list[tuple[str, str]] = []
    kinds, weights = zip(*MIX, strict=True)
    calls = 0
    while time.monotonic() < deadline:
        replica = (seed + calls) % len(bases)
        calls += 1
        kind = rng.choices(kinds, weights)[0]
        if kind == "feedback" and not served:
            kind = "single"
        if kind == "single":
            call = ("/predict", {"text": f"{rng.choice(TWEETS)} #{rng.randrange(10_000)}"}, {})
        elif kind == "batch":
            call = ("/predict", {"texts": rng.sample(TWEETS, k=BATCH_SIZE)}, {})
        else:
            prediction_id, label = rng.choice(served)
            body = {"prediction_id": prediction_id, "correct_label": "positive" if label == "negative" else "negative"}
            call = ("/feedback", body, {"X-API-Key": api_key})
        start = time.perf_counter()
        try:
            response = sessions[replica].post(bases[replica] + call[0], json=call[1], headers=call[2], timeout=30)
        except requests.RequestException as exc:
            results.errors[type(exc).__name__] += 1
            continue
        results.latencies[kind].append((time.perf_counter() - start) * 1000)
        if not 200 <= response.status_code < 300:
            results.errors[f"HTTP {response.status_code}"] += 1
            if kind == "feedback" and response.status_code == 404:
                results.not_found.append(call[1]["prediction_id"])
            continue
        body = response.json()
        if kind == "single":
            served.append((body["prediction_id"], body["label"]))
            del served[:-50]
            results.predictions.append(body["prediction_id"])
        elif kind == "batch":
            results.predictions.extend(p["prediction_id"] for p in body["predictions"])
        else:
            results.feedback.append(Acknowledged(body["feedback_id"], body["prediction_id"], body["correct_label"]))
    for session in sessions:
        session.close()
    return results


def run_load(bases: str | Sequence[str], api_key: str, clients: int, duration_s: float) -> tuple[Results, float]:
    """``clients`` concurrent clients for ``duration_s`` against one API or several replicas (each client
    sends its calls to them in turn); returns the results and the wall time."""
    bases = [bases] if isinstance(bases, str) else list(bases)
    deadline = time.monotonic() + duration_s
    start = time.perf_counter()
    total = Results()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for results in pool.map(lambda i: client_loop(bases, api_key, deadline, seed=i), range(clients)):
            total.merge(results)
    return total, time.perf_counter() - start


def report(name: str, results: Results, wall_s: float, monitoring: dict | None) -> None:
    """Print one scenario's figures."""
    every = [v for values in results.latencies.values() for v in values]
    errors = sum(results.errors.values())
    print(f"\n== {name} ==")
    print(f"requests: {len(every) + errors} in {wall_s:.1f} s = {(len(every) + errors) / wall_s:.1f} requests/s")
    print(f"tweets scored: {len(results.predictions)} = {len(results.predictions) / wall_s:.1f} tweets/s")
    print(f"errors: {errors} {dict(results.errors) if errors else ''}".rstrip())
    print(f"{'kind':<9} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in ("all", "single", "batch", "feedback"):
        values = every if kind == "all" else results.latencies.get(kind, [])
        print(
            f"{kind:<9} {len(values):>7} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
            f"{percentile(values, 99):>8.1f}"
        )
    if monitoring:
        print(f"event counters after the run: {monitoring.get('events')}")


def start_api(env: dict[str, str], workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free loopback port; returns it and its base URL once ready."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    command += ["--threads", str(threads), "api:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"{base}/ready", timeout=5).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.3)
    server.kill()
    raise SystemExit("error: the API never became ready (is there a champion? see python -m core up)")


def stop_api(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", action="append", help="an API already running (one pass, no slow-store run); repeat for replicas"
    )
    parser.add_argument("--api-key", default=os.environ.get("API_KEY"), help="for feedback (default: $API_KEY)")
    parser.add_argument("--tracking-uri", help="MLflow store of the model to serve (default: the project's)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per pass")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--slow-store-ms", type=float, default=250.0, help="event write delay of the second pass")
    args = parser.parse_args(argv)

    if args.url:
        bases = [url.rstrip("/") for url in args.url]
        results, wall = run_load(bases, args.api_key or "", args.clients, args.duration)
        report(f"{', '.join(bases)}: {args.clients} clients x {args.duration:.0f} s", results, wall, None)
        return 1 if results.errors else 0

    api_key = secrets.token_urlsafe(24)
    failed = False
    with tempfile.TemporaryDirectory(prefix="load-test-") as tmp:
        for name, extra in (
            ("event store as configured", {}),
            (
                f"slow event store (+{args.slow_store_ms:.0f} ms per write)",
                {"API_EVENT_WRITE_DELAY_MS": str(args.slow_store_ms)},
            ),
        ):
            env = dict(os.environ, API_KEY=api_key, API_RATE_LIMIT_PER_MINUTE="0", **extra)
            env["API_FEEDBACK_DB"] = str(Path(tmp) / f"events-{len(extra)}.db")
            env.pop("EVENT_STORE_URL", None)
            if args.tracking_uri:
                env["MLFLOW_TRACKING_URI"] = args.tracking_uri
            server, base = start_api(env, args.workers, args.threads)
            try:
                model = requests.get(f"{base}/model", timeout=10).json()
                print(
                    f"\nserving {model['name']} v{model['version']} ({model['family']}, {model['runtime']}) at {base}, "
                    f"gunicorn -w {args.workers} --threads {args.threads}; "
                    f"{args.clients} clients x {args.duration:.0f} s"
                )
                results, wall = run_load(base, api_key, args.clients, args.duration)
                monitoring = requests.get(f"{base}/monitoring", timeout=10).json()
            finally:
                stop_api(server)
            report(name, results, wall, monitoring)
            failed = failed or bool(results.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
