"""Ablation of the plateau techniques (not a test): each one on/off against the plain baseline.

Trains cheap families on one split of the chosen profile's data (``quick``: 20,000 tweets,
2,000 stripped ``twitter_samples`` out of domain; the extra ``twitter_samples`` training tweets
only in the arms that name them) without MLflow, and prints a Markdown table
of validation, test and out-of-domain ROC AUC and accuracy, the expected calibration error
(raw and calibrated), the average cost per test tweet when a missed negative costs 2 and a
false alarm 1, the behavioural suite's mean pass rate (:mod:`core.evaluation.behaviour`), the threshold and
the compute cost (training seconds, seconds per 1,000 tweets). ``ood_heldout`` is the
half of the out-of-domain set that the ensemble's weight search never sees: the column to
compare an ensemble with its members on.

    .venv/bin/python -m scripts.ablation                 # quick profile, ~5 minutes on 2 cores
    .venv/bin/python -m scripts.ablation --profile tiny  # seconds, a smoke check
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time

import pandas as pd

from core.config import CalibrationConfig, NoiseConfig, PipelineConfig, get_profile
from core.data.prepared import PreparedData, prepare_data
from core.evaluation.behaviour import behaviour_metrics
from core.evaluation.calibration import cost_threshold, expected_cost
from core.evaluation.metrics import timed
from core.models.classifier import SentimentClassifier
from core.training.ensemble import build_ensemble, heldout_ood_metrics
from core.training.fitting import evaluate_classifier, fit_classifier

PLAIN = CalibrationConfig()
CALIBRATED = CalibrationConfig(method="temperature", threshold_rule="cost", cost_missed_negative=2.0)


def _row(
    name: str, classifier: SentimentClassifier, data: PreparedData, config: PipelineConfig, train_s: float
) -> dict:
    probabilities: dict = {}
    metrics = evaluate_classifier(classifier, data, probabilities, ece_bins=config.calibration.ece_bins)
    metrics.update(heldout_ood_metrics(classifier, data, config))
    sample = data.split.test["text"].tolist()[:1000]
    _, seconds = timed(lambda: classifier.predict_proba(sample))
    row = {"technique": name}
    for part in ("val", "test", "ood", "ood_heldout"):
        row[f"{part}_auc"] = metrics.get(f"{part}_roc_auc", float("nan"))
    for part in ("val", "test", "ood"):
        row[f"{part}_acc"] = metrics[f"{part}_accuracy"]
    y_test = data.split.test["label"].to_numpy()
    row.update(
        test_ece_raw=metrics["test_ece_raw"],
        test_ece=metrics["test_ece"],
        ood_ece=metrics["ood_ece"],
        test_cost_2to1=expected_cost(y_test, probabilities["test"], classifier.threshold, 2.0, 1.0),
        behaviour=behaviour_metrics(classifier)["behaviour_overall"],
        threshold=classifier.threshold,
        train_s=train_s,
        s_per_1000=seconds * 1000 / max(1, len(sample)),
    )
    return row


def _fit(family: str, variant: str, data: PreparedData, config: PipelineConfig, **changes) -> tuple:
    config = dataclasses.replace(config, **changes)
    start = time.perf_counter()
    classifier, facts = fit_classifier(family, variant, data, config)
    logging.info("%s-%s fitted on %d tweets", family, variant, int(facts["n_train_used"]))
    return classifier, time.perf_counter() - start, config


def run(profile: str, with_keras: bool) -> pd.DataFrame:
    """Train every ablation arm on the profile's data; returns the table."""
    profile_config = get_profile(profile)
    extra_rows = profile_config.data.twitter_samples_train or 8_000
    base = dataclasses.replace(
        profile_config,
        calibration=PLAIN,
        noise=NoiseConfig(),
        data=dataclasses.replace(profile_config.data, twitter_samples_train=0),
    )
    data = prepare_data(base)
    extra_data = dataclasses.replace(base.data, twitter_samples_train=extra_rows)
    with_extra = prepare_data(dataclasses.replace(base, data=extra_data))
    rows = []

    def arm(name: str, family: str, variant: str = "none", on=None, **changes) -> SentimentClassifier:
        classifier, seconds, config = _fit(family, variant, on or data, base, **changes)
        rows.append(_row(name, classifier, on or data, config, seconds))
        return classifier

    tfidf = base.models.tfidf
    lexicon_models = dataclasses.replace(base.models, tfidf=dataclasses.replace(tfidf, lexicon_features=True))
    plain = arm("tfidf-none (plain)", "tfidf")
    arm("+ temperature calibration, cost threshold", "tfidf", calibration=CALIBRATED)
    arm(
        "+ isotonic calibration, cost threshold",
        "tfidf",
        calibration=dataclasses.replace(CALIBRATED, method="isotonic"),
    )
    lexicon = arm("+ lexicon features (VADER)", "tfidf", calibration=CALIBRATED, models=lexicon_models)
    arm("+ cleanlab label cleanup", "tfidf", calibration=CALIBRATED, noise=NoiseConfig(label_cleanup="cleanlab"))
    arm("+ date-balanced subset", "tfidf", calibration=CALIBRATED, noise=NoiseConfig(date_balanced=True))
    arm(
        "+ lexicon + cleanlab",
        "tfidf",
        calibration=CALIBRATED,
        models=lexicon_models,
        noise=NoiseConfig(label_cleanup="cleanlab"),
    )
    arm(f"+ {extra_rows:,} twitter_samples in training", "tfidf", calibration=CALIBRATED, on=with_extra)
    arm(
        f"+ {extra_rows:,} twitter_samples + lexicon",
        "tfidf",
        calibration=CALIBRATED,
        models=lexicon_models,
        on=with_extra,
    )
    stem = arm("tfidf-stem (calibrated)", "tfidf", "stem", calibration=CALIBRATED)
    members = [("tfidf-none", plain), ("tfidf-stem", stem), ("tfidf-none+lexicon", lexicon)]
    if with_keras:
        keras = arm("keras_embedding-none (calibrated)", "keras_embedding", calibration=CALIBRATED)
        members.append(("keras_embedding-none", keras))
        smoothed = dataclasses.replace(
            base.models, keras_embedding=dataclasses.replace(base.models.keras_embedding, label_smoothing=0.1)
        )
        arm("keras_embedding + label smoothing 0.1", "keras_embedding", calibration=CALIBRATED, models=smoothed)
    config = dataclasses.replace(base, calibration=CALIBRATED)
    rows.extend(_ensemble_rows(members, data, config))
    return pd.DataFrame(rows)


def _ensemble_rows(members: list, data, config) -> list[dict]:
    """One row per ensemble of ``members``: weights chosen on validation only, then with the OOD half in view."""
    rows = []
    for ood_weight in (0.0, 0.5):
        config = dataclasses.replace(config, ensemble=dataclasses.replace(config.ensemble, ood_weight=ood_weight))
        start = time.perf_counter()
        ensemble, facts = build_ensemble(members, data, config)
        weights = ", ".join(
            f"{k.removeprefix('ensemble_weight_')}={v:.2f}"
            for k, v in facts.items()
            if k.startswith("ensemble_weight_")
        )
        logging.info("ensemble (ood_weight=%s) weights: %s", ood_weight, weights)
        name = f"ensemble of {len(members)}, weights on val" + (" + OOD half" if ood_weight else " only")
        rows.append(_row(name, ensemble, data, config, time.perf_counter() - start))
    return rows


def run_registered(profile: str, versions: list[str], tracking_uri: str | None) -> pd.DataFrame:
    """Ensembles of already registered versions (e.g. the ``quick`` session's BERT, USE, TF-IDF) on the
    same split they were trained on (the split is seeded): each member's row, then the ensembles."""
    from core.config import TrackingConfig
    from core.serving.predictor import Predictor

    config = dataclasses.replace(get_profile(profile), calibration=CALIBRATED)
    data = prepare_data(config)
    members, rows = [], []
    for version in versions:
        predictor = Predictor(TrackingConfig(tracking_uri=tracking_uri), version=version)
        classifier = predictor.classifier
        name = f"v{version} {predictor.info.family}-{predictor.info.preprocessing}"
        members.append((name, classifier))
        rows.append(_row(f"{name} (registered, as served)", classifier, data, config, float("nan")))
    rows.extend(_ensemble_rows(members, data, config))
    return pd.DataFrame(rows)


def main() -> None:
    """Parse arguments, run the ablation, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="data profile (tiny, quick, full)")
    parser.add_argument("--no-keras", action="store_true", help="leave the Keras embedding family out")
    parser.add_argument(
        "--registered",
        help="comma-separated registered versions to ensemble instead (trained on this profile's split)",
    )
    parser.add_argument("--tracking-uri", help="store of --registered (default: $MLFLOW_TRACKING_URI, else .mlflow/)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("core.training.pipeline").setLevel(logging.WARNING)
    start = time.perf_counter()
    if args.registered:
        table = run_registered(args.profile, args.registered.split(","), args.tracking_uri)
    else:
        table = run(args.profile, with_keras=not args.no_keras)
    print(f"cost threshold for 2:1 costs = {cost_threshold(2.0, 1.0):.3f}")
    print(table.to_markdown(index=False, floatfmt=".4f"))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
