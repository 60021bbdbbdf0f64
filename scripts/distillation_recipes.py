"""Ablation (not a test): the distilled student against the plain BERT family on the same tweets,
judged on the human-labelled ``report`` part, over seeds.

Per seed, the ``quick`` profile's student pool is drawn (the training split and the unused
Sentiment140 rows, capped at ``models.distilled.max_train_samples``), the teacher (a registered
version: ``--teacher``, default the champion of ``--tracking-uri``) labels it, and two MiniLM-L6
models with the same settings are fine-tuned on the same tweets: the **student** on the teacher's
P(negative), the **plain** BERT on the tweets' emoticon labels. Printed: ROC AUC on human
``report`` (all, TweetEval, STS-Gold), human ``select`` and test, mean ± sd over seeds, and the
teacher's own scores. Nothing is logged or registered.

Usage: ``.venv/bin/python -m scripts.distillation_recipes --tracking-uri sqlite:///.mlflow/mlflow.db``
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time

from core.config import TrackingConfig, apply_overrides, get_profile
from core.config.overrides import parse_assignments
from core.data.prepared import prepare_data
from core.data.preprocessing import Preprocessor
from core.errors import CoreError
from core.tracking.setup import configure_tracking
from core.training.distillation import student_pool, teacher_classifier, teacher_probabilities
from core.training.fitting import evaluate_classifier, fit_classifier
from scripts.over_seeds import HUMAN_AUCS, print_table

_FAST = ["models.distilled.onnx_export=false", "models.bert.onnx_export=false"]  # scores unchanged


def one_seed(seed: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Student and plain BERT on one seed's pool; the teacher's scores on the same parts."""
    base = apply_overrides(get_profile("quick"), parse_assignments([*_FAST, *args.set]))
    config = dataclasses.replace(
        base, families=("distilled",), seed=seed, tracking=TrackingConfig(tracking_uri=args.tracking_uri)
    )
    configure_tracking(config.tracking)
    data = prepare_data(config)
    teacher, _ = teacher_classifier(args.teacher, [], config)
    student_settings = config.models.distilled
    pool = student_pool(data, student_settings.max_train_samples, seed)
    start = time.perf_counter()
    targets = teacher_probabilities(teacher, list(pool["text"]))
    print(f"seed {seed}: {len(pool)} tweets labelled by the teacher in {time.perf_counter() - start:.0f} s", flush=True)
    processed = Preprocessor("none", config.data.resolved_nltk_data()).transform(pool["text"])
    # The plain arm: the BERT family with exactly the student's settings, on the emoticon labels.
    bert_settings = {f.name: getattr(student_settings, f.name) for f in dataclasses.fields(config.models.bert)}
    plain_config = dataclasses.replace(
        config,
        families=("bert",),
        models=dataclasses.replace(config.models, bert=type(config.models.bert)(**bert_settings)),
    )
    out = {"teacher": evaluate_classifier(teacher, data)}
    for arm, family, arm_config, labels in (
        ("student", "distilled", config, targets),
        ("plain", "bert", plain_config, pool["label"].to_numpy()),
    ):
        start = time.perf_counter()
        classifier, facts = fit_classifier(family, "none", data, arm_config, training=(processed, labels))
        out[arm] = {**facts, **evaluate_classifier(classifier, data)}
        print(
            f"seed {seed} {arm}: human report {out[arm]['human_report_roc_auc']:.4f} "
            f"(TweetEval {out[arm]['human_report_tweeteval_roc_auc']:.4f}) in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", required=True, help="the store holding the teacher")
    parser.add_argument("--teacher", default="champion", help="registered version number or 'champion'")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="quick profile overrides")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        outcomes = [one_seed(seed, args) for seed in args.seeds]
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = {arm: [o[arm] for o in outcomes] for arm in ("student", "plain", "teacher")}
    print_table("ROC AUC", args.seeds, rows, HUMAN_AUCS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
