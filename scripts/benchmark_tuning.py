"""Benchmark (not a test): trials per hour of one shared Optuna study with 1 and 2 worker processes.

Usage: ``.venv/bin/python -m scripts.benchmark_tuning [--family tfidf] [--profile quick] [--variant none]
[--trials 4] [--workers 1 2] [--storage URL]``

The profile's data is prepared once. For each worker count, a fresh study of ``--trials`` trials
(same search space, same trial count) runs through the real path, ``tune_family`` with
``tuning.storage`` inside a parent MLflow run of a temporary tracking store, in a temporary SQLite
storage unless ``--storage`` names one (e.g. ``postgresql+psycopg://user@host/db``). Prints, per
worker count, the wall time and trials per hour end to end (worker start-up included) and inside
the study (first trial started to last trial finished), with the CPU count and load average: the
figures only mean something next to how busy the machine was.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import mlflow
import optuna
from optuna.trial import TrialState

from core.config import TrackingConfig, TuningConfig, get_profile
from core.data.prepared import prepare_data
from core.data.preprocessing import Preprocessor
from core.tracking.setup import configure_tracking
from core.training.tuning import tune_family
from core.training.tuning_workers import open_storage


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="tfidf", help="family to tune (default: tfidf)")
    parser.add_argument("--profile", default="quick", help="whose data and settings (default: quick)")
    parser.add_argument("--variant", default="none", help="preprocessing variant (default: none)")
    parser.add_argument("--trials", type=int, default=4, help="trials per study (default: 4)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default: 1 2)")
    parser.add_argument("--storage", help="Optuna storage URL (default: a temporary SQLite file)")
    return parser.parse_args()


def study_span_s(tuning: TuningConfig, name: str) -> float:
    """Seconds from the study's first trial start to its last trial end (finished trials only)."""
    study = optuna.load_study(study_name=name, storage=open_storage(tuning))
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()


def main() -> None:
    """Run one study per worker count and print the table."""
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="benchmark-tuning-"))
    config = get_profile(args.profile)
    config = dataclasses.replace(
        config,
        families=(args.family,),
        preprocessing=(args.variant,),
        tracking=TrackingConfig(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}", experiment="benchmark-tuning"),
        cache_dir=folder / "cache",
        reports_dir=folder / "reports",
    )
    configure_tracking(config.tracking)
    data = prepare_data(config)
    data.processed(Preprocessor(args.variant, config.data.resolved_nltk_data()))  # outside the timings
    storage = args.storage or f"sqlite:///{folder / 'tuning.db'}"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = []
    for workers in args.workers:
        tuning = TuningConfig(
            families=(args.family,),
            n_trials=args.trials,
            search_spaces=config.tuning.search_spaces,
            storage=storage,
            workers=workers,
            study_name=f"benchmark-{stamp}-{workers}w",
        )
        session = dataclasses.replace(config, tuning=tuning)
        with mlflow.start_run(run_name=f"benchmark-{workers}-workers"):
            start = time.perf_counter()
            tune_family(args.family, args.variant, data, session)
            wall = time.perf_counter() - start
        span = study_span_s(tuning, f"{tuning.study_name}-{args.family}-{args.variant}")
        rows.append((workers, wall, span))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{args.family} ({args.variant}) on the {args.profile} data, {len(data.split.train)} training tweets, "
        f"{args.trials} trials per study, storage {storage.split('://')[0]}; "
        f"{os.cpu_count()} CPUs, load average now {load}"
    )
    print(f"{'workers':>7}  {'wall s':>7}  {'trials/h (wall)':>15}  {'study s':>7}  {'trials/h (study)':>16}")
    for workers, wall, span in rows:
        print(
            f"{workers:>7}  {wall:>7.1f}  {args.trials / wall * 3600:>15.0f}  {span:>7.1f}  "
            f"{args.trials / span * 3600:>16.0f}"
        )


if __name__ == "__main__":  # the worker processes are spawned: they import this module, not run it
    main()
