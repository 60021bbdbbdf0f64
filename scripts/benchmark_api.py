"""Benchmark (not a test): the API under gunicorn on loopback against a naive per-request load.

Usage: ``.venv/bin/python -m scripts.benchmark_api [--runtime auto onnx_int8 native] [--tracking-uri URI]
[--versions champion 12 9] [--naive-hf] [--requests 300] [--seconds 20]``

For each version (``champion`` or a number: ``API_MODEL_VERSION``) and runtime
(``API_MODEL_RUNTIME``), starts ``gunicorn "api:create_app()"`` (1 worker, 4 threads), then
prints: single-tweet latency p50/p99 over sequential requests, ``/explain`` latency p50/p99 (one
tweet's word weights), batch throughput (tweets/s) with concurrent clients sending batches of 64,
start-up time to ``/ready``, the server's resident memory and whether torch/TensorFlow got
loaded; with ``--naive-hf``, the same for a naive Flask app around a Hugging Face ``pipeline``
(``scripts/naive_hf_app.py``) under the same gunicorn settings; and the latency of
``mlflow.pyfunc.load_model(...).predict`` done on each call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from core.config import DEFAULT_DATA_PATH, PROJECT_ROOT, TrackingConfig
from core.data.loading import load_sentiment140, stratified_sample
from core.tracking.registry import model_uri
from core.tracking.setup import configure_tracking, resolve_tracking_uri
from tests.harness import free_port, percentile  # one percentile convention with the tests


def post(url: str, payload: dict) -> dict:
    """POST JSON, return the decoded answer."""
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


NAIVE = "naive-hf"


def start_api(uri: str, port: int, feedback_db: str, runtime: str, version: str) -> tuple[subprocess.Popen, float]:
    """gunicorn serving ``version`` (``champion``, a number, or :data:`NAIVE` for the naive reference app)
    on ``runtime``; returns the process and the seconds to ``/ready``."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "API_FEEDBACK_DB": feedback_db,
        "API_MODEL_RUNTIME": runtime,
        "API_RATE_LIMIT_PER_MINUTE": "0",  # measure the model, not the per-client rate limit
        "PYTHONPATH": str(PROJECT_ROOT),
        "HF_HUB_OFFLINE": "1",
    }
    if version not in ("champion", NAIVE):
        env["API_MODEL_VERSION"] = version
    app = "scripts.naive_hf_app:create_app()" if version == NAIVE else "api:create_app()"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "4", "--no-control-socket"]
    start = time.perf_counter()
    process = subprocess.Popen([*command, app], cwd=PROJECT_ROOT, env=env, stderr=subprocess.DEVNULL)
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


def frameworks_loaded(pid: int) -> list[str]:
    """Deep-learning frameworks whose native libraries the gunicorn worker (child of ``pid``) mapped."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    found = set()
    for worker in out.stdout.split():
        maps = Path(f"/proc/{worker}/maps").read_text()
        found |= {name for name, lib in (("torch", "libtorch"), ("tensorflow", "libtensorflow")) if lib in maps}
    return sorted(found)


@dataclass
class ServedFigures:
    """What one runtime measured."""

    runtime: str
    model: dict
    startup_s: float
    memory_mb: float
    frameworks: list[str]
    latencies_ms: list[float]
    tweets_per_s: float
    explain_ms: list[float]


def measure(uri: str, runtime: str, version: str, tweets: list[str], args: argparse.Namespace) -> ServedFigures:
    """Start the API on ``runtime`` serving ``version``, measure latency and throughput, stop it."""
    port = free_port()
    process, startup_s = start_api(uri, port, f"/tmp/benchmark_api_{port}.db", runtime, version)
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
        explain = []
        for i in range(0 if version == NAIVE else args.explain_requests):
            start = time.perf_counter()
            post(f"{base}/explain", {"text": tweets[i % len(tweets)]})
            explain.append((time.perf_counter() - start) * 1000)

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
        memory, frameworks = rss_mb(process.pid), frameworks_loaded(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return ServedFigures(runtime, model, startup_s, memory, frameworks, latencies, throughput, explain)


def main() -> int:
    """Run the measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="MLflow URI (default: $MLFLOW_TRACKING_URI or the embedded store)")
    parser.add_argument(
        "--runtime", nargs="+", default=["auto", "onnx_int8", "native"], help="API_MODEL_RUNTIME values to compare"
    )
    parser.add_argument("--requests", type=int, default=300, help="sequential single-tweet requests")
    parser.add_argument("--explain-requests", type=int, default=100, help="sequential /explain requests")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the batch throughput phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--naive-calls", type=int, default=5)
    parser.add_argument("--versions", nargs="+", default=["champion"], help="'champion' or version numbers")
    parser.add_argument("--naive-hf", action="store_true", help="also measure the naive Hugging Face pipeline app")
    args = parser.parse_args()

    tracking = TrackingConfig(tracking_uri=args.tracking_uri)
    uri = resolve_tracking_uri(tracking)
    tweets = stratified_sample(load_sentiment140(DEFAULT_DATA_PATH), 2000, seed=7)["text"].tolist()
    results = [measure(uri, runtime, version, tweets, args) for version in args.versions for runtime in args.runtime]
    if args.naive_hf:
        results.append(measure(uri, "torch", NAIVE, tweets, args))

    import mlflow.pyfunc

    configure_tracking(tracking)
    naive = []
    for text in tweets[: args.naive_calls]:
        start = time.perf_counter()
        mlflow.pyfunc.load_model(model_uri(tracking)).predict([text])
        naive.append((time.perf_counter() - start) * 1000)

    print(f"\nsingle tweets: {args.requests} sequential; batches of 64, {args.clients} clients, {args.seconds:.0f} s\n")
    print(
        "| model | runtime | start-up to /ready | memory (master + worker) | frameworks | p50 | p99 | batch tweets/s "
        "| /explain p50 | /explain p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        name = f"{r.model['name']} v{r.model['version']} ({r.model['family']})"
        print(
            f"| {name} | {r.runtime} ({r.model['runtime']}) | {r.startup_s:.1f} s | {r.memory_mb:.0f} MB | "
            f"{', '.join(r.frameworks) or 'none'} | {percentile(r.latencies_ms, 50):.1f} ms | "
            f"{percentile(r.latencies_ms, 99):.1f} ms | {r.tweets_per_s:.0f} | "
            f"{percentile(r.explain_ms, 50):.1f} ms | {percentile(r.explain_ms, 99):.1f} ms |"
        )
    print(f"\nreference, load_model + predict per call ({args.naive_calls} calls): p50 {percentile(naive, 50):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
