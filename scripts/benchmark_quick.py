"""Benchmark (not a test): train the ``quick`` profile end to end and print each family's times and its
ROC AUC on test, out of domain and the human-labelled parts.

Usage: ``.venv/bin/python -m scripts.benchmark_quick [--profile quick] [--model ...] [--set key=value ...]``

Trains into a fresh temporary SQLite store (so the champion of ``.mlflow/`` is untouched)
unless ``--tracking-uri`` is given, then prints, per run: training time, whole-run wall
time (fit + evaluation + logging), inference time per 1,000 tweets and the scores, and the total.
The target is all families in <= 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

from core.config import apply_overrides, get_profile
from core.config.overrides import parse_assignments
from core.training.pipeline import run_pipeline


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--model", nargs="+", help="families (default: the profile's)")
    parser.add_argument("--tracking-uri", help="MLflow URI (default: a temporary SQLite store)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting")
    args = parser.parse_args()

    config = apply_overrides(get_profile(args.profile), parse_assignments(args.set))
    with tempfile.TemporaryDirectory() as tmp:
        tracking = dataclasses.replace(config.tracking, tracking_uri=args.tracking_uri or f"sqlite:///{tmp}/bench.db")
        if not args.tracking_uri:
            tracking.store_dir = Path(tmp)
        config = dataclasses.replace(config, tracking=tracking, families=tuple(args.model or config.families))
        start = time.perf_counter()
        result = run_pipeline(config)
        total = time.perf_counter() - start
        client = MlflowClient()
        header = f"{'run':<26}{'train s':>9}{'run s':>8}{'infer s/1k':>11}"
        header += f"{'test AUC':>9}{'OOD AUC':>9}{'hum sel':>9}{'hum rep':>9}{'rep TwE':>9}{'rep STS':>9}"
        print("\n" + header + "\n" + "-" * len(header))
        nan = float("nan")
        for run in result.runs:
            info = client.get_run(run.run_id).info
            m = run.metrics
            print(
                f"{run.family + '-' + run.preprocessing:<26}{m['train_time_s']:>9.1f}"
                f"{(info.end_time - info.start_time) / 1000:>8.1f}{m['inference_s_per_1000']:>11.2f}"
                f"{m['test_roc_auc']:>9.4f}{m.get('ood_roc_auc', nan):>9.4f}{m.get('human_select_roc_auc', nan):>9.4f}"
                f"{m.get('human_report_roc_auc', nan):>9.4f}{m.get('human_report_tweeteval_roc_auc', nan):>9.4f}"
                f"{m.get('human_report_sts_gold_roc_auc', nan):>9.4f}"
            )
        print(f"\ntotal wall time (data preparation included): {total:.0f} s = {total / 60:.1f} min")
        if result.champion:
            print(f"champion: v{result.champion.version} {result.champion.family}-{result.champion.preprocessing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
