"""Ablation (not a test): BERT-family recipes judged on the human-labelled ``report`` part, over seeds.

Each arm is a set of ``--set`` overrides of the ``quick`` profile's BERT (MiniLM-L6); each arm runs
once per seed (the training seed, so the training subset and the fine-tuning; the split stays the
profile's). Printed per arm: ROC AUC on human ``report`` (all, TweetEval, STS-Gold), human
``select`` and test, as mean ± sd over the seeds, and the training time. Nothing is logged to
MLflow and nothing is registered.

Usage: ``.venv/bin/python -m scripts.bert_recipes --arms plain-8k quick --seeds 1 2 3``
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
import time
from pathlib import Path

from core.config import PipelineConfig, apply_overrides, get_profile
from core.config.overrides import parse_assignments
from core.data.prepared import PreparedData, prepare_data
from core.errors import CoreError
from core.training.fitting import evaluate_classifier, fit_classifier
from scripts.over_seeds import HUMAN_AUCS, print_table

_PLAIN = ["data.twitter_samples_train=0", "models.bert.max_train_samples=8000"]
ARMS: dict[str, list[str]] = {
    "quick": [],
    "plain-8k": _PLAIN,
    "plain-16k": ["data.twitter_samples_train=0", "models.bert.max_train_samples=16000"],
    "plain-8k-2-epochs": [*_PLAIN, "models.bert.epochs=2"],
    "plain-8k-lr-3e-5": [*_PLAIN, "models.bert.learning_rate=3e-5"],
    "plain-8k-len-96": [*_PLAIN, "models.bert.max_length=96"],
    "8k-with-twitter-samples": ["models.bert.max_train_samples=8000"],
    "plain-8k-date-balanced": [*_PLAIN, "noise.date_balanced=true"],
}
"""Arm name -> overrides of the quick profile (the NOTES' plain recipe: 8,000 tweets, one epoch,
no ``twitter_samples``)."""
REPORTED = (*HUMAN_AUCS, "train_time_s")
_FAST = ["models.bert.onnx_export=false", "models.bert.onnx_int8=false", "data.ood=false"]  # scores unchanged


def arm_config(arm: str, seed: int, extra: list[str], cache_dir: Path) -> PipelineConfig:
    """The quick profile's BERT with the arm's overrides and the training seed."""
    config = apply_overrides(get_profile("quick"), parse_assignments([*ARMS[arm], *_FAST, *extra]))
    return dataclasses.replace(config, families=("bert",), seed=seed, cache_dir=cache_dir)


def run_arm(config: PipelineConfig, data: PreparedData) -> dict[str, float]:
    """Fine-tune once and score every part."""
    classifier, facts = fit_classifier("bert", "none", data, config)
    return {**facts, **evaluate_classifier(classifier, data)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", default=["plain-8k", "quick"], choices=list(ARMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="added to every arm")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results: dict[str, list[dict[str, float]]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bert-recipes-") as tmp:
            prepared: dict[str, PreparedData] = {}
            for arm in args.arms:
                for seed in args.seeds:
                    config = arm_config(arm, seed, args.set, Path(tmp))
                    key = repr((config.data, config.split, config.noise))
                    if key not in prepared:
                        prepared[key] = prepare_data(config)
                    start = time.perf_counter()
                    metrics = run_arm(config, prepared[key])
                    results.setdefault(arm, []).append(metrics)
                    seconds = time.perf_counter() - start
                    print(
                        f"{arm} seed {seed}: human report {metrics['human_report_roc_auc']:.4f} "
                        f"(TweetEval {metrics['human_report_tweeteval_roc_auc']:.4f}) in {seconds:.0f} s",
                        flush=True,
                    )
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_table("arm", args.seeds, results, REPORTED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
