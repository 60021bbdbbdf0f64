"""Benchmark (not a test): the ``quick`` champion chosen on human ``select`` against what it replaces,
judged on the human-labelled ``report`` part, over seeds.

Per seed, the real ``quick`` pipeline runs (every family, the ensemble, the promotion; MLflow in a
temporary folder). From that run come:

- **champion**: the version the pipeline promoted (chosen on human ``select``);
- **ensemble (teacher)**: the session's ensemble (the student's teacher when the champion is the
  distilled student);
- **best single family**: the other single-family run (neither the champion, the ensemble nor a
  student) with the best human ``report`` ROC AUC (the strictest opponent: picked with the
  ``report`` labels the champion never saw);
- **ensemble as before the yardstick**: the same members, calibrated and thresholded on validation,
  weighted on validation + the out-of-domain half (``ensemble.fit_on=val_ood``), as the ``quick``
  champion was built before the human-labelled tweets existed. (Its ``keras_embedding`` member was
  tuned on human ``select``; the rest of the members do not depend on the yardstick.)

The plain MiniLM (one epoch, 8,000 tweets) is ``scripts/bert_recipes.py --arms plain-8k``.

Usage: ``.venv/bin/python -m scripts.yardstick_acceptance --seeds 1 2 3``
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
import time
from pathlib import Path

from core.config import STUDENT_FAMILIES, PipelineConfig, TrackingConfig, apply_overrides, get_profile
from core.config.overrides import parse_assignments
from core.data.prepared import PreparedData, prepare_data
from core.errors import CoreError
from core.evaluation.calibration import calibrate_and_threshold
from core.models.classifier import SentimentClassifier
from core.training.ensemble import build_ensemble
from core.training.fitting import RunResult, decision_part, evaluate_classifier
from core.training.pipeline import run_pipeline
from scripts.over_seeds import print_table

BEFORE_YARDSTICK = [
    "ensemble.fit_on=val_ood",
    "calibration.fit_on=val",
    "evaluation.selection_part=val",
    "evaluation.selection_metric=f1_negative",
]
"""The decisions of the ``quick`` profile before the human yardstick (commit ``e2bb3ca``'s parent)."""
CONTENDERS = ("champion", "ensemble (teacher)", "best single family", "ensemble before the yardstick")
REPORTED = (
    "human_report_roc_auc",
    "human_report_tweeteval_roc_auc",
    "human_report_sts_gold_roc_auc",
    "serving_p50_ms",
    "serving_rss_mb",
)


def recalibrated(classifier: SentimentClassifier, data: PreparedData, config: PipelineConfig) -> SentimentClassifier:
    """The same fitted model, its calibration and threshold refitted on ``config.calibration.fit_on``."""
    labels, texts = decision_part(data, data.processed(classifier.preprocessor), config.calibration.fit_on)
    calibrator, threshold = calibrate_and_threshold(
        config.calibration, config.evaluation.threshold_metric, labels, classifier.model.predict_proba(texts)
    )
    return SentimentClassifier(classifier.preprocessor, classifier.model, threshold, calibrator)


def ensemble_before(runs: list[RunResult], data: PreparedData, config: PipelineConfig) -> dict[str, float]:
    """Scores of the ensemble built from ``runs``' members with the decisions of before the yardstick."""
    before = apply_overrides(config, parse_assignments(BEFORE_YARDSTICK))
    members = [
        (f"{r.family}-{r.preprocessing}", recalibrated(r.classifier, data, before))
        for r in runs
        if r.family != "ensemble" and r.classifier is not None
    ]
    classifier, facts = build_ensemble(members, data, before)
    return {**facts, **evaluate_classifier(classifier, data)}


def one_seed(seed: int, folder: Path, profile: str, overrides: list[str]) -> dict[str, dict[str, float] | str]:
    """Run the profile with ``seed`` and score the three contenders."""
    config = dataclasses.replace(
        apply_overrides(get_profile(profile), parse_assignments(overrides)),
        seed=seed,
        tracking=TrackingConfig(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}"),
    )
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = run_pipeline(config)
    pipeline_s = time.perf_counter() - start
    champion = next(r for r in result.runs if r.version == result.champion.version)
    singles = [r for r in result.runs if r.family not in ("ensemble", *STUDENT_FAMILIES) and r is not champion]
    best_single = max(singles, key=lambda r: r.metrics["human_report_roc_auc"])
    ensemble = next(r for r in result.runs if r.family == "ensemble")
    members = [r for r in result.runs if r.family not in STUDENT_FAMILIES]
    before = ensemble_before(members, prepare_data(config), config)
    return {
        "champion": champion.metrics,
        "champion_name": f"{champion.family}-{champion.preprocessing}",
        "ensemble (teacher)": ensemble.metrics,
        "best single family": best_single.metrics,
        "best_single_name": f"{best_single.family}-{best_single.preprocessing}",
        "ensemble before the yardstick": before,
        "pipeline_s": pipeline_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--profile", default="quick", help="tiny + --set ensemble.enabled=true: a smoke run")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="profile overrides")
    parser.add_argument("--store-dir", type=Path, help="keep each seed's MLflow store here (default: thrown away)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    outcomes = []
    try:
        with tempfile.TemporaryDirectory(prefix="yardstick-") as tmp:
            folder = args.store_dir or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            for seed in args.seeds:
                start = time.perf_counter()
                outcome = one_seed(seed, folder / f"seed-{seed}", args.profile, args.set)
                outcomes.append(outcome)
                print(
                    f"seed {seed} (pipeline {outcome['pipeline_s']:.0f} s, in all {time.perf_counter() - start:.0f} s, "
                    f"champion {outcome['champion_name']}): "
                    + ", ".join(f"{who} {outcome[who]['human_report_roc_auc']:.4f}" for who in CONTENDERS)
                    + f" (best single: {outcome['best_single_name']})",
                    flush=True,
                )
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = {who: [o[who] for o in outcomes] for who in CONTENDERS}
    print_table("ROC AUC (and serving cost)", args.seeds, rows, REPORTED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
