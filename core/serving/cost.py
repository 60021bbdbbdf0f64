"""What a saved classifier costs to serve, measured in a fresh process as the API would hold it.

``python -m core.serving.cost FOLDER --runtime auto --texts FILE`` loads the classifier on the
runtime (nothing else of the project's training side is imported), scores one tweet at a time
``--single`` times (p50, p99 latency, preprocessing included), then batches of ``--batch-size`` for
``--seconds`` (tweets per second), and prints one JSON object: those figures, the load time and
the process's peak resident memory. :func:`measure_in_fresh_process` runs it and reads the result;
the training pipeline calls it at registration (``serving.measure``), the champion choice reads
the logged figures against the budget (``serving.max_*``).

The API process holds Flask, gunicorn and the MLflow client besides the model, so its resident
memory is a little higher than this probe's (the README gives both, measured).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.config import PROJECT_ROOT, ServingConfig
from core.errors import ResourceError
from core.models.classifier import SentimentClassifier

_TIMEOUT_S = 600


def nearest_rank(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method (``nan`` when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: ``VmHWM`` of ``/proc/self/status`` (its own memory
    map, reset by ``exec``), else ``ru_maxrss``, which Linux carries over from the parent across
    ``fork`` + ``exec`` and so would count the trainer's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, bytes on macOS


def measure(
    folder: Path, runtime: str, texts: list[str], single: int, batch_size: int, seconds: float
) -> dict[str, float | str]:
    """Load the classifier in ``folder`` on ``runtime`` in this process and time it (see the module)."""
    start = time.perf_counter()
    classifier = SentimentClassifier.load(folder, runtime=runtime)
    load_s = time.perf_counter() - start
    texts = texts or ["my flight was delayed again"]
    classifier.predict_proba(texts[:batch_size])  # warm-up: lazy initialisations, caches, allocator
    latencies = []
    for i in range(single):
        start = time.perf_counter()
        classifier.predict_proba([texts[i % len(texts)]])
        latencies.append((time.perf_counter() - start) * 1000)
    scored, batches, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds or batches == 0:
        offset = (batches * batch_size) % len(texts)
        batch = (texts[offset:] + texts[:offset])[:batch_size]
        classifier.predict_proba(batch)
        scored += len(batch)
        batches += 1
    throughput = scored / (time.perf_counter() - start)
    return {
        "serving_load_s": load_s,
        "serving_p50_ms": nearest_rank(latencies, 50),
        "serving_p99_ms": nearest_rank(latencies, 99),
        "serving_tweets_per_s": throughput,
        "serving_rss_mb": peak_rss_mb(),
        "serving_runtime": classifier.runtime,
    }


def measure_in_fresh_process(folder: Path, texts: list[str], settings: ServingConfig) -> dict[str, float | str]:
    """:func:`measure` in a new Python process (its memory is the model's alone, not the trainer's).

    Raises:
        ResourceError: the process failed or printed no result (its last output is in the message).
    """
    with tempfile.TemporaryDirectory(prefix="serving-cost-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(list(texts)))
        command = [
            sys.executable,
            "-m",
            "core.serving.cost",
            str(folder),
            "--runtime",
            settings.runtime,
            "--texts",
            str(texts_file),
            "--single",
            str(settings.single_requests),
            "--batch-size",
            str(settings.batch_size),
            "--seconds",
            str(settings.batch_seconds),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S, env=env, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise ResourceError(f"Measuring the serving cost of {folder} took over {_TIMEOUT_S} s.") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise ResourceError(f"Measuring the serving cost of {folder} failed: {done.stderr.strip()[-1500:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--texts", type=Path, required=True, help="a JSON list of raw tweets")
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    texts = json.loads(args.texts.read_text())
    print(json.dumps(measure(args.folder, args.runtime, texts, args.single, args.batch_size, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
