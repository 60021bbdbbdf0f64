"""Batch-scoring benchmark (not a test of the suite): tweets/s scored in-process (``core.serving.batch``) and on
Spark (``core.serving.spark_scoring``, ``mlflow.pyfunc.spark_udf``) on the same file and the same registered model.

    .venv/bin/python -m scripts.benchmark_scoring --tracking-uri sqlite:////tmp/store/mlflow.db
    .venv/bin/python -m scripts.benchmark_scoring --tracking-uri sqlite:////tmp/store/mlflow.db --version 2 \\
        --rows 60000 --format csv --spark-master local[2]

The input is built first from the shared Sentiment140 subset (headerless, latin-1, text in column 6): the
first ``--rows`` tweets as a tidy file with an ``id`` and a ``text`` column. Each scorer then reads it,
scores every row and writes the scored rows (parquet, or CSV with ``--format csv``) into a scratch folder.

What is timed: reading, scoring and writing. Loading the model in-process, starting the Spark session, and
Spark's first pass (its Python workers start and each loads the model) are printed apart: the warm pass is the
steady rate a long job approaches. Both scorers hand the model ``--chunk-size`` rows per ``predict`` call.
The two outputs are compared (labels equal, P(negative) within 1e-6) so the rates are for the same answer.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.config import DEFAULT_DATA_PATH, TrackingConfig
from core.data.loading import load_sentiment140
from core.serving.batch import score_file
from core.serving.predictor import Predictor
from core.serving.spark_scoring import SparkScoringConfig, resolve_model, score_with_spark, spark_session


@dataclass(frozen=True)
class Timing:
    """One timed step."""

    step: str
    rows: int
    seconds: float

    @property
    def tweets_per_s(self) -> float:
        return self.rows / self.seconds if self.rows and self.seconds > 0 else float("nan")


def build_input(source: Path, rows: int, folder: Path, kind: str) -> Path:
    """The first ``rows`` tweets of a Sentiment140 file as ``tweets.<kind>`` with ``id`` and ``text`` columns."""
    frame = load_sentiment140(source).head(rows)[["id", "text"]].reset_index(drop=True)
    target = folder / f"tweets.{kind}"
    frame.to_parquet(target, index=False) if kind == "parquet" else frame.to_csv(target, index=False)
    return target


def read_scored(path: Path) -> pd.DataFrame:
    """A scored file or a Spark folder of part files."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    parts = sorted(path.glob("part-*.csv")) if path.is_dir() else [path]
    return pd.concat([pd.read_csv(p, keep_default_na=False, dtype=str) for p in parts], ignore_index=True)


def check_same_answer(in_process: Path, on_spark: Path) -> None:
    """Raise if the two outputs differ in rows, labels, or P(negative) by more than 1e-6."""
    a, b = read_scored(in_process), read_scored(on_spark)
    if list(a["id"].astype(str)) != list(b["id"].astype(str)) or list(a["predicted_label"]) != list(
        b["predicted_label"]
    ):
        raise SystemExit("the Spark output differs from the in-process output (rows or labels)")
    gap = (a["probability_negative"].astype(float) - b["probability_negative"].astype(float)).abs().max()
    if gap > 1e-6:
        raise SystemExit(f"P(negative) differs by up to {gap:.2e} between the two outputs")


def run_in_process(config: TrackingConfig, version: str, given: Path, folder: Path, chunk: int) -> list[Timing]:
    start = time.perf_counter()
    predictor = Predictor(config, version=version)
    loaded = Timing("in-process: load the model", 0, time.perf_counter() - start)
    report = score_file(
        predictor.model.predict, given, folder / f"in_process{given.suffix}", chunk_rows=chunk, progress=False
    )
    return [loaded, Timing("in-process: read, score, write", report.rows, report.seconds)]


def run_spark(
    config: TrackingConfig, version: str, given: Path, folder: Path, master: str, chunk: int, warmup_rows: int
) -> list[Timing]:
    uri, _ = resolve_model(config, version=version)
    warmup = folder / f"warmup{given.suffix}"
    head = pd.read_parquet(given) if given.suffix == ".parquet" else pd.read_csv(given, dtype=str)
    head = head.head(warmup_rows)
    head.to_parquet(warmup, index=False) if given.suffix == ".parquet" else head.to_csv(warmup, index=False)
    start = time.perf_counter()
    with spark_session(SparkScoringConfig(master=master, batch_rows=chunk)) as spark:
        timings = [Timing(f"spark {master}: start the session", 0, time.perf_counter() - start)]
        first = score_with_spark(spark, uri, str(warmup), str(folder / f"warmup_out{given.suffix}"))
        timings.append(Timing(f"spark {master}: first pass (workers load the model)", first.rows, first.seconds))
        report = score_with_spark(spark, uri, str(given), str(folder / f"spark{given.suffix}"))
        timings.append(
            Timing(f"spark {master}: read, score, write ({report.partitions} tasks)", report.rows, report.seconds)
        )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tracking-uri", help="MLflow store holding the model (default: $MLFLOW_TRACKING_URI, .mlflow/)"
    )
    parser.add_argument("--version", help="registered version (default: the champion's)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help="Sentiment140-format CSV")
    parser.add_argument("--rows", type=int, default=40_000, help="tweets to score (default: 40,000)")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="input and output format")
    parser.add_argument("--chunk-size", type=int, default=10_000, help="rows per predict call, both scorers")
    parser.add_argument("--spark-master", default="local[2]", help="Spark master (default: local[2])")
    parser.add_argument("--warmup-rows", type=int, default=2_000, help="rows of Spark's first pass")
    args = parser.parse_args(argv)

    config = TrackingConfig(tracking_uri=args.tracking_uri)
    version = args.version or resolve_model(config)[1]
    with tempfile.TemporaryDirectory(prefix="benchmark-scoring-") as scratch:
        folder = Path(scratch)
        given = build_input(args.data, args.rows, folder, args.format)
        rows = len(read_scored(given)) if args.format == "csv" else pd.read_parquet(given).shape[0]
        print(f"model version {version}; {rows} tweets from {args.data.name} as {given.name}")
        print(
            f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start (shared with other work)"
        )
        timings = run_in_process(config, version, given, folder, args.chunk_size)
        timings += run_spark(config, version, given, folder, args.spark_master, args.chunk_size, args.warmup_rows)
        check_same_answer(folder / f"in_process{given.suffix}", folder / f"spark{given.suffix}")
    print(f"\n{'step':<58} {'tweets':>7} {'seconds':>8} {'tweets/s':>9}")
    for t in timings:
        rate = f"{t.tweets_per_s:9.0f}" if t.rows else f"{'':9}"
        print(f"{t.step:<58} {t.rows or '':>7} {t.seconds:8.1f} {rate}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}; outputs identical (labels, P(negative) within 1e-6)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
