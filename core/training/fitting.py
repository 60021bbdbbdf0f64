"""One training run's steps: fit a family on train, calibrate and pick its threshold on validation,
score it on every evaluated part, and log and register it in the active MLflow run.

The pipeline, tuning and the ensemble all build on these steps (none imports the pipeline).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from core.config import PipelineConfig, flatten
from core.data.human import PARTS
from core.data.prepared import PreparedData, noise_robust_positions, train_subset
from core.data.preprocessing import Preprocessor
from core.evaluation.calibration import calibrate_and_threshold, expected_calibration_error
from core.evaluation.metrics import compute_metrics, timed
from core.models import get_family
from core.models.classifier import SentimentClassifier, folder_size_mb
from core.serving.cost import measure_in_fresh_process
from core.serving.image import serving_tags
from core.tracking.diagnostics import log_test_predictions
from core.tracking.registry import register
from core.tracking.setup import git_commit, log_classifier
from core.training.seeding import set_seeds

_TIMING_SAMPLE = 1000
_COST_SAMPLE = 256
"""Test tweets the serving-cost probe cycles through."""
HUMAN_SET_METRICS = ("roc_auc", "accuracy", "f1_negative", "ece", "n")
"""What each human-labelled set logs within a part (the parts log every metric)."""


@dataclass
class RunResult:
    """What one training run produced."""

    run_id: str
    family: str
    preprocessing: str
    version: str
    metrics: dict[str, float]
    classifier: SentimentClassifier | None = field(default=None, repr=False)


def run_tags(family: str, variant: str, data: PreparedData, config: PipelineConfig) -> dict[str, str]:
    """The MLflow tags of one run: what it is and what it was trained from."""
    return {
        "family": family,
        "preprocessing": variant,
        "profile": config.profile,
        "git_commit": git_commit(),
        "data_sha256": data.data_sha256,
        "split_seed": str(config.split.seed),
        "split_strategy": config.split.strategy,
    }


def run_params(family: str, variant: str, data: PreparedData, config: PipelineConfig) -> dict[str, str]:
    """The MLflow parameters of one run: the config (other families' sections left out) and the data sizes."""
    params = {
        key: value
        for key, value in flatten(config).items()
        if not key.startswith(("models.", "tuning.search_spaces")) or key.startswith(f"models.{family}.")
    }
    if family in config.tuning.families:
        params["tuning.search_space"] = str(config.tuning.search_spaces[family])
    params.update(family=family, preprocessing=variant, **{f"n_{k}": str(v) for k, v in data.split.sizes().items()})
    if data.ood is not None:
        params["n_ood"] = str(len(data.ood))
    params["n_train_twitter_samples"] = str(data.n_extra_train)
    return params


def fit_classifier(
    family: str,
    variant: str,
    data: PreparedData,
    config: PipelineConfig,
    training: tuple[list[str], np.ndarray] | None = None,
) -> tuple[SentimentClassifier, dict[str, float]]:
    """Fit one family on train and choose its threshold on the decision part.

    Args:
        training: preprocessed texts and targets to fit on instead of the training split (a
            student's pool and its teacher's probabilities); the split's noise remedies and the
            family's ``max_train_samples`` are then the caller's business.

    Returns:
        The classifier and the training facts (including ``train_time_s``).
    """
    family_config = config.models.for_family(family)
    model = get_family(family)(family_config, seed=config.seed, cache_dir=config.cache_dir)
    set_seeds(config.seed)  # after the family import, so its framework is seeded too
    preprocessor = Preprocessor(variant, config.data.resolved_nltk_data())
    texts = data.processed(preprocessor)
    if training is None:
        labels = data.split.train["label"]
        kept = noise_robust_positions(data, config)
        cap = getattr(family_config, "max_train_samples", None)
        keep = kept[train_subset(labels.iloc[kept], cap, config.seed)]
        training = ([texts["train"][i] for i in keep], labels.to_numpy()[keep])
        removed = len(labels) - len(kept)
    else:
        removed = 0
    start = time.perf_counter()
    facts = model.fit(*training, texts["val"], data.split.val["label"].to_numpy())
    facts["train_time_s"] = time.perf_counter() - start
    facts["n_train_used"] = float(len(training[0]))
    facts["n_train_noise_removed"] = float(removed)
    decision_labels, decision_texts = decision_part(data, texts, config.calibration.fit_on)
    calibrator, threshold = calibrate_and_threshold(
        config.calibration,
        config.evaluation.threshold_metric,
        decision_labels,
        model.predict_proba(decision_texts),
    )
    if calibrator is not None and calibrator.method == "temperature":
        facts["calibration_temperature"] = calibrator.temperature
    return SentimentClassifier(preprocessor, model, threshold, calibrator), facts


def decision_part(data: PreparedData, texts: dict[str, list[str]], part: str) -> tuple[np.ndarray, list[str]]:
    """Labels and preprocessed texts of the part a decision is taken on: ``val`` or ``human_select``.

    Raises:
        DataError: ``human_select`` asked for while the session has no human-labelled tweets.
    """
    if part == "val":
        return data.split.val["label"].to_numpy(), texts["val"]
    select = data.human_part("select")
    return select["label"].to_numpy(), [texts["human"][i] for i in select.index]


def human_metrics(
    human: pd.DataFrame, probabilities: np.ndarray, threshold: float, ece_bins: int = 15
) -> dict[str, float]:
    """Metrics on the human-labelled tweets: each part (``human_select_*``, ``human_report_*``) and
    each set within each part (``human_report_tweeteval_roc_auc``, ...)."""
    labels = human["label"].to_numpy()
    metrics: dict[str, float] = {}
    for part in PARTS:
        in_part = (human["part"] == part).to_numpy()
        groups = [(f"human_{part}", in_part, None)]
        groups += [
            (f"human_{part}_{name}", in_part & (human["set"] == name).to_numpy(), HUMAN_SET_METRICS)
            for name in sorted(human["set"].unique())
        ]
        for prefix, mask, keys in groups:
            if not mask.any():
                continue
            scores = compute_metrics(labels[mask], probabilities[mask], threshold)
            scores["ece"] = expected_calibration_error(labels[mask], probabilities[mask], ece_bins)
            scores["n"] = float(mask.sum())
            metrics.update({f"{prefix}_{k}": float(v) for k, v in scores.items() if keys is None or k in keys})
    return metrics


def evaluate_classifier(
    classifier: SentimentClassifier,
    data: PreparedData,
    keep: dict[str, np.ndarray] | None = None,
    ece_bins: int = 15,
) -> dict[str, float]:
    """Metrics on val, test, out of domain and the human-labelled parts (:func:`human_metrics`),
    prefixed by the part's name, and the threshold.

    Every part also gets its expected calibration error, of the served (calibrated) P(negative)
    (``*_ece``) and of the model's raw one (``*_ece_raw``).

    Args:
        keep: when given, receives each part's (served) P(negative) by part name.
        ece_bins: equal-width bins of the expected calibration error.
    """
    texts = data.processed(classifier.preprocessor)
    metrics: dict[str, float] = {}
    for name, frame in data.parts().items():
        if name == "train":
            continue
        raw = classifier.model.predict_proba(texts[name])
        probabilities = classifier.calibrate(raw)
        if keep is not None:
            keep[name] = probabilities
        if name == "human":
            metrics.update(human_metrics(frame, probabilities, classifier.threshold, ece_bins))
            metrics["human_ece_raw"] = expected_calibration_error(frame["label"].to_numpy(), raw, ece_bins)
            continue
        labels = frame["label"].to_numpy()
        for key, value in compute_metrics(labels, probabilities, classifier.threshold).items():
            metrics[f"{name}_{key}"] = float(value)
        metrics[f"{name}_ece"] = expected_calibration_error(labels, probabilities, ece_bins)
        metrics[f"{name}_ece_raw"] = expected_calibration_error(labels, raw, ece_bins)
    metrics["threshold"] = classifier.threshold
    return metrics


def serving_time_per_1000(served: SentimentClassifier, data: PreparedData) -> float:
    """Seconds per 1,000 raw test tweets for the classifier as served (reloaded from its saved folder,
    so without training-time caches), preprocessing included."""
    sample = data.split.test["text"].tolist()[:_TIMING_SAMPLE]
    _, seconds = timed(lambda: served.predict_proba(sample))
    return seconds * 1000 / max(1, len(sample))


def serving_facts(folder: Path, data: PreparedData, config: PipelineConfig) -> tuple[dict[str, float], dict[str, str]]:
    """Metrics and tags of what serving the saved classifier in ``folder`` costs and needs: reloaded on
    the API's runtime (``serving.runtime``), its requirements checked against the API image, its ROC
    AUC on the human-labelled tweets as served (``served_human_*``, when the runtime is an export),
    and, with ``serving.measure``, its latency, throughput and memory measured in a fresh process
    (for the versions the API image can load: the others can never be champion)."""
    served = SentimentClassifier.load(folder, runtime=config.serving.runtime)
    metrics = {"inference_s_per_1000": serving_time_per_1000(served, data)}
    if data.human is not None and served.runtime != "native":  # an export scores a little differently
        scores = human_metrics(data.human, served.predict_proba(list(data.human["text"])), served.threshold)
        metrics.update({f"served_{k}": v for k, v in scores.items() if k.endswith("_roc_auc")})
    tags = serving_tags(served.model.requirements, served.runtime, config.serving.image_requirements)
    if config.serving.measure and tags["api_image_servable"] == "true":  # else it can never be champion
        texts = data.split.test["text"].tolist()[:_COST_SAMPLE]
        figures = measure_in_fresh_process(folder, texts, config.serving)
        metrics.update({k: float(v) for k, v in figures.items() if k != "serving_runtime"})
    return metrics, tags


def log_and_register(
    classifier: SentimentClassifier,
    metrics: dict[str, float],
    test_probabilities: np.ndarray,
    data: PreparedData,
    config: PipelineConfig,
    family: str,
    preprocessing: str,
) -> str:
    """In the active run: save the classifier, add its size and serving time to ``metrics``, log the
    model, the test predictions and ``metrics``, and register a version (returned)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = classifier.save(Path(tmp) / "classifier")
        metrics["model_size_mb"] = folder_size_mb(folder)
        serving_metrics, serving = serving_facts(folder, data, config)
        metrics.update(serving_metrics)
        model_uri = log_classifier(folder, classifier.model.requirements, data.split.test["text"].tolist()[:3])
        log_test_predictions(data.split.test, test_probabilities, classifier.threshold)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(serving)
        tags = {"family": family, "preprocessing": preprocessing, **serving}
        version = register(model_uri, config.tracking.registered_model, tags)
        mlflow.set_tag("registered_version", version)
    return version
