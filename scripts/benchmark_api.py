"""Benchmark (not a test): the API under gunicorn on loopback against a naive per-request load.

Usage: ``.venv/bin/python scripts/benchmark_api.py [--tracking-uri URI] [--requests 300] [--seconds 20]``

Starts ``gunicorn "api:create_app()"`` (1 worker, 4 threads) serving the champion, then prints:
single-tweet latency p50/p99 over sequential requests, batch throughput (tweets/s) with
concurrent clients sending batches of 64, start-up time to ``/ready`` and the server's resident
memory; and, as the reference, the latency of ``mlflow.pyfunc.load_model(...).predict`` done
on each call (what a naive service does).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import DEFAULT_DATA_PATH, PROJECT_ROOT, TrackingConfig  # noqa: E402
from core.data_loading import load_sentiment140, stratified_sample  # noqa: E402
from core.registry import model_uri  # noqa: E402
from core.tracking import configure_tracking, resolve_tracking_uri  # noqa: E402


def post(url: str, payload: dict) -> dict:
    """POST JSON, return the decoded answer."""
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(uri: str, port: int, feedback_db: str) -> tuple[subprocess.Popen, float]:
    """gunicorn serving the champion; returns the process and the seconds to ``/ready``."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "API_FEEDBACK_DB": feedback_db}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "4", "--no-control-socket"]
    start = time.perf_counter()
    process = subprocess.Popen([*command, "api:create_app()"], cwd=PROJECT_ROOT, env=env, stderr=subprocess.DEVNULL)
    while time.perf_counter() - start < 120:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
                if response.status == 200:
                    return process, time.perf_counter() - start
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the API did not become ready within 120 s")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn master + worker), in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    return sum(int(x) for x in out.stdout.split()) / 1024


def main() -> int:
    """Run both measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="MLflow URI (default: $MLFLOW_TRACKING_URI or the embedded store)")
    parser.add_argument("--requests", type=int, default=300, help="sequential single-tweet requests")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the batch throughput phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--naive-calls", type=int, default=5)
    args = parser.parse_args()

    tracking = TrackingConfig(tracking_uri=args.tracking_uri)
    uri = resolve_tracking_uri(tracking)
    tweets = stratified_sample(load_sentiment140(DEFAULT_DATA_PATH), 2000, seed=7)["text"].tolist()
    port = free_port()
    process, startup_s = start_api(uri, port, f"/tmp/benchmark_api_{port}.db")
    base = f"http://127.0.0.1:{port}"
    try:
        model = json.load(urllib.request.urlopen(f"{base}/model", timeout=10))
        for text in tweets[:20]:  # warm-up
            post(f"{base}/predict", {"text": text})
        latencies = []
        for i in range(args.requests):
            start = time.perf_counter()
            post(f"{base}/predict", {"text": tweets[i % len(tweets)]})
            latencies.append((time.perf_counter() - start) * 1000)

        def batch_worker(offset: int) -> int:
            done, deadline, i = 0, time.perf_counter() + args.seconds, offset
            while time.perf_counter() < deadline:
                batch = [tweets[(i + k) % len(tweets)] for k in range(64)]
                done += len(post(f"{base}/predict", {"texts": batch})["predictions"])
                i += 64
            return done

        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            total = sum(pool.map(batch_worker, [c * 500 for c in range(args.clients)]))
        throughput = total / (time.perf_counter() - start)
        memory = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)

    import mlflow.pyfunc

    configure_tracking(tracking)
    naive = []
    for text in tweets[: args.naive_calls]:
        start = time.perf_counter()
        mlflow.pyfunc.load_model(model_uri(tracking)).predict([text])
        naive.append((time.perf_counter() - start) * 1000)

    print(f"\nmodel: {model['name']} v{model['version']} ({model['family']}, {model['preprocessing']})")
    print(f"start-up to /ready: {startup_s:.1f} s; resident memory (master + worker): {memory:.0f} MB")
    print(
        f"single tweet over HTTP ({args.requests} sequential): p50 {percentile(latencies, 50):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, mean {statistics.mean(latencies):.1f} ms"
    )
    print(f"batches of 64, {args.clients} concurrent clients, {args.seconds:.0f} s: {throughput:.0f} tweets/s")
    print(f"reference, load_model + predict per call ({args.naive_calls} calls): p50 {percentile(naive, 50):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
