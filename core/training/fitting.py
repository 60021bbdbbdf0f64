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

from core.config import PipelineConfig
from core.data.prepared import PreparedData, noise_robust_positions, train_subset
from core.data.preprocessing import Preprocessor
from core.evaluation.calibration import calibrate_and_threshold, expected_calibration_error
from core.evaluation.metrics import compute_metrics, timed
from core.models import get_family
from core.models.classifier import SentimentClassifier, folder_size_mb
from core.tracking.diagnostics import log_test_predictions
from core.tracking.registry import register
from core.tracking.setup import log_classifier
from core.training.seeding import set_seeds

_TIMING_SAMPLE = 1000


@dataclass
class RunResult:
    """What one training run produced."""

    run_id: str
    family: str
    preprocessing: str
    version: str
    metrics: dict[str, float]
    classifier: SentimentClassifier | None = field(default=None, repr=False)


def fit_classifier(
    family: str, variant: str, data: PreparedData, config: PipelineConfig
) -> tuple[SentimentClassifier, dict[str, float]]:
    """Fit one family on train and choose its threshold on validation.

    Returns:
        The classifier and the training facts (including ``train_time_s``).
    """
    family_config = config.models.for_family(family)
    model = get_family(family)(family_config, seed=config.seed, cache_dir=config.cache_dir)
    set_seeds(config.seed)  # after the family import, so its framework is seeded too
    preprocessor = Preprocessor(variant, config.data.resolved_nltk_data())
    texts = data.processed(preprocessor)
    labels = data.split.train["label"]
    kept = noise_robust_positions(data, config)
    cap = getattr(family_config, "max_train_samples", None)
    keep = kept[train_subset(labels.iloc[kept], cap, config.seed)]
    start = time.perf_counter()
    facts = model.fit(
        [texts["train"][i] for i in keep],
        data.split.train["label"].to_numpy()[keep],
        texts["val"],
        data.split.val["label"].to_numpy(),
    )
    facts["train_time_s"] = time.perf_counter() - start
    facts["n_train_used"] = float(len(keep))
    facts["n_train_noise_removed"] = float(len(labels) - len(kept))
    calibrator, threshold = calibrate_and_threshold(
        config.calibration,
        config.evaluation.threshold_metric,
        data.split.val["label"].to_numpy(),
        model.predict_proba(texts["val"]),
    )
    if calibrator is not None and calibrator.method == "temperature":
        facts["calibration_temperature"] = calibrator.temperature
    return SentimentClassifier(preprocessor, model, threshold, calibrator), facts


def evaluate_classifier(
    classifier: SentimentClassifier,
    data: PreparedData,
    keep: dict[str, np.ndarray] | None = None,
    ece_bins: int = 15,
) -> dict[str, float]:
    """Metrics on val, test and out of domain, prefixed by the part's name, and the threshold.

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
        labels = frame["label"].to_numpy()
        for key, value in compute_metrics(labels, probabilities, classifier.threshold).items():
            metrics[f"{name}_{key}"] = float(value)
        metrics[f"{name}_ece"] = expected_calibration_error(labels, probabilities, ece_bins)
        metrics[f"{name}_ece_raw"] = expected_calibration_error(labels, raw, ece_bins)
    metrics["threshold"] = classifier.threshold
    return metrics


def serving_time_per_1000(folder: Path, data: PreparedData) -> float:
    """Seconds per 1,000 raw test tweets for the classifier as served: reloaded from its saved
    folder (so without training-time caches), preprocessing included."""
    served = SentimentClassifier.load(folder)
    sample = data.split.test["text"].tolist()[:_TIMING_SAMPLE]
    _, seconds = timed(lambda: served.predict_proba(sample))
    return seconds * 1000 / max(1, len(sample))


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
        metrics["inference_s_per_1000"] = serving_time_per_1000(folder, data)
        model_uri = log_classifier(folder, classifier.model.requirements, data.split.test["text"].tolist()[:3])
        log_test_predictions(data.split.test, test_probabilities, classifier.threshold)
        mlflow.log_metrics(metrics)
        tags = {"family": family, "preprocessing": preprocessing}
        version = register(model_uri, config.tracking.registered_model, tags)
        mlflow.set_tag("registered_version", version)
    return version
