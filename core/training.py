"""The training pipeline: data -> split -> (family x preprocessing) runs -> registry -> champion.

Each run fits on train only, picks its decision threshold on validation, is scored on
validation, test and the stripped out-of-domain ``twitter_samples``, and is logged to MLflow
with the servable pyfunc model, then registered. The champion is chosen on validation.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from tqdm.auto import tqdm

from core.behaviour import behaviour_metrics
from core.calibration import calibrate_and_threshold, expected_calibration_error
from core.classifier import SentimentClassifier, folder_size_mb
from core.cleaning import clean_text
from core.config import PipelineConfig, flatten
from core.data_loading import file_sha256, load_sentiment140, split_twitter_samples, stratified_sample
from core.diagnostics import log_test_predictions
from core.evaluation import compute_metrics, timed
from core.models import get_family
from core.preprocessing import Preprocessor
from core.progress import RUN_MARKER, TrainingCancelled, TrainingMonitor
from core.registry import VersionInfo, promote_best, register
from core.seeding import set_seeds
from core.splitting import Split, add_to_train, split_data
from core.tracking import configure_tracking, git_commit, log_classifier
from core.tuning import tune_family, with_family_values

logger = logging.getLogger(__name__)

_TIMING_SAMPLE = 1000


@dataclass
class PreparedData:
    """The split (decided once, before any fitting) and the out-of-domain set."""

    split: Split
    ood: pd.DataFrame | None
    data_sha256: str
    n_extra_train: int = 0
    """Training tweets that come from ``twitter_samples`` (see ``data.twitter_samples_train``)."""
    _processed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    _train_positions: dict[str, np.ndarray] = field(default_factory=dict)

    def parts(self) -> dict[str, pd.DataFrame]:
        """Every evaluated part by name."""
        parts = {"train": self.split.train, "val": self.split.val, "test": self.split.test}
        if self.ood is not None:
            parts["ood"] = self.ood
        return parts

    def processed(self, preprocessor: Preprocessor) -> dict[str, list[str]]:
        """Preprocessed texts of every part for one variant (computed once per variant)."""
        if preprocessor.variant not in self._processed:
            self._processed[preprocessor.variant] = {
                name: preprocessor.transform(frame["text"], progress=name == "train")
                for name, frame in self.parts().items()
            }
        return self._processed[preprocessor.variant]


@dataclass
class RunResult:
    """What one training run produced."""

    run_id: str
    family: str
    preprocessing: str
    version: str
    metrics: dict[str, float]
    classifier: SentimentClassifier | None = field(default=None, repr=False)


@dataclass
class PipelineResult:
    """All runs of a pipeline session and the champion after promotion."""

    runs: list[RunResult]
    champion: VersionInfo | None


def prepare_data(config: PipelineConfig) -> PreparedData:
    """Load, subsample and split the tweets; load the out-of-domain set and add the extra
    ``twitter_samples`` training tweets (``data.twitter_samples_train``) outside it."""
    frame = load_sentiment140(config.data.path)
    frame = stratified_sample(frame, config.data.max_rows, config.split.seed)
    split = split_data(frame, config.split)
    ood = None
    n_extra = 0
    if config.data.ood or config.data.twitter_samples_train:
        settings = config.data
        ood, extra = split_twitter_samples(
            settings.resolved_nltk_data(), settings.ood_max_rows, settings.twitter_samples_train, config.split.seed
        )
        if len(extra):
            ood_keys = ood["text"].map(clean_text)
            split, n_extra, _, replacing = add_to_train(split, extra, held_out_keys=ood_keys)
            logger.info(
                "twitter_samples: %d tweets added to train (%d left out: duplicates or held-out texts; %d replacing).",
                n_extra,
                len(extra) - n_extra,
                replacing,
            )
        if not config.data.ood:
            ood = None
    logger.info("Split sizes: %s", split.sizes())
    return PreparedData(split, ood, file_sha256(config.data.path), n_extra_train=n_extra)


def train_subset(labels: pd.Series, max_samples: int | None, seed: int) -> np.ndarray:
    """Positions of a class-stratified, seeded subset of the training split (all when no cap)."""
    frame = pd.DataFrame({"label": labels.to_numpy()})  # a RangeIndex: the index is the position
    return np.sort(stratified_sample(frame, max_samples, seed).index.to_numpy())


def noise_robust_positions(data: PreparedData, config: PipelineConfig) -> np.ndarray:
    """Positions of the training tweets kept by the noise remedies of ``config.noise`` (computed
    once per session and shared by every family, on the cleaned ``none`` texts)."""
    from core.label_noise import training_positions

    key = repr(config.noise)
    if key not in data._train_positions:
        train = data.split.train
        texts = []
        if config.noise.label_cleanup != "none":
            texts = data.processed(Preprocessor("none", config.data.resolved_nltk_data()))["train"]
        dates = train["date"] if "date" in train.columns else None
        data._train_positions[key] = training_positions(
            config.noise, texts, train["label"].to_numpy(), dates, config.seed
        )
    return data._train_positions[key]


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


def _run_params(family: str, variant: str, data: PreparedData, config: PipelineConfig) -> dict[str, str]:
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


def end_cancelled_run(run_id: str) -> None:
    """End a cancelled run, and its nested tuning trials, with status KILLED."""
    while mlflow.active_run() is not None:
        mlflow.end_run("KILLED")
    client = MlflowClient()
    experiment_id = client.get_run(run_id).info.experiment_id
    for child in client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{run_id}'"):
        if child.info.status != "FINISHED":
            client.set_terminated(child.info.run_id, "KILLED")
    logger.warning("Run %s cancelled: ended as KILLED, nothing registered.", run_id)


def _fit_and_evaluate(
    family: str, variant: str, data: PreparedData, config: PipelineConfig, monitor: TrainingMonitor
) -> tuple[PipelineConfig, SentimentClassifier, dict[str, float], dict[str, np.ndarray]]:
    """Tune (when asked), fit and evaluate inside the active run; the cancellable part of a run."""
    if family in config.tuning.families:
        monitor.report("tuning")
        config = with_family_values(config, family, tune_family(family, variant, data, config))
        mlflow.set_tag("tuned", "true")
    mlflow.log_params(_run_params(family, variant, data, config))
    monitor.report("fitting")
    classifier, facts = fit_classifier(family, variant, data, config)
    monitor.report("evaluating")
    probabilities: dict[str, np.ndarray] = {}
    metrics = {**facts, **evaluate_classifier(classifier, data, probabilities, config.calibration.ece_bins)}
    metrics.update(behaviour_metrics(classifier))
    metrics["selection_score"] = metrics[f"val_{config.evaluation.selection_metric}"]
    return config, classifier, metrics, probabilities


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


def train_and_log(
    family: str, variant: str, data: PreparedData, config: PipelineConfig, monitor: TrainingMonitor | None = None
) -> RunResult:
    """One MLflow run: fit, evaluate, log params/metrics/tags/model, register a version.

    A cancellation (see :mod:`core.progress`) during tuning, fitting or evaluation ends the
    run as KILLED with nothing registered; once logging starts, the run is completed first.
    """
    monitor = monitor or TrainingMonitor()
    tags = {
        "family": family,
        "preprocessing": variant,
        "profile": config.profile,
        "git_commit": git_commit(),
        "data_sha256": data.data_sha256,
        "split_seed": str(config.split.seed),
        "split_strategy": config.split.strategy,
    }
    with monitor.shielded():
        run = mlflow.start_run(run_name=f"{family}-{variant}", tags=tags)
    monitor.run_id = run.info.run_id
    try:
        config, classifier, metrics, probabilities = _fit_and_evaluate(family, variant, data, config, monitor)
    except BaseException as exc:
        # A cancellation may also surface as another error (a library's worker process got the signal too).
        if isinstance(exc, TrainingCancelled) or monitor.cancel_requested:
            with monitor.shielded():  # a second SIGTERM must not cut the clean-up
                end_cancelled_run(run.info.run_id)
            raise TrainingCancelled("cancelled") from exc
        mlflow.end_run("FAILED")
        raise
    monitor.report("logging model")
    # The shield is left last: a cancellation received while logging waits for the run's end.
    with monitor.shielded(), run:
        version = log_and_register(classifier, metrics, probabilities["test"], data, config, family, variant)
    logger.info(
        "%s-%s: val_%s=%.4f test_roc_auc=%.4f",
        family,
        variant,
        config.evaluation.selection_metric,
        metrics["selection_score"],
        metrics["test_roc_auc"],
    )
    return RunResult(run.info.run_id, family, variant, version, metrics, classifier)


def run_pipeline(config: PipelineConfig, monitor: TrainingMonitor | None = None) -> PipelineResult:
    """Train every (family, preprocessing) pair of the config and promote the champion.

    Args:
        config: the whole pipeline configuration.
        monitor: receives progress reports and may cancel the session (see :mod:`core.progress`).

    Returns:
        The runs and the champion version.

    Raises:
        TrainingCancelled: the monitor was cancelled; finished runs stay registered, the
            current one ends as KILLED, the champion is not changed.
    """
    monitor = monitor or TrainingMonitor()
    configure_tracking(config.tracking)
    monitor.report("preparing data", 0.0)
    data = prepare_data(config)
    pairs = [(f, v) for f in config.families for v in config.variants_for(f)]
    if config.ensemble.enabled:
        from core.ensemble import check_members

        check_members(config.ensemble.members, [f"{f}-{v}" for f, v in pairs])  # before any training
    runs = []
    for index, (family, variant) in enumerate(tqdm(pairs, desc="training runs", unit="run"), start=1):
        monitor.start_run(index, len(pairs), f"{family}-{variant}")
        logger.info("%s%d/%d: %s-%s", RUN_MARKER, index, len(pairs), family, variant)
        runs.append(train_and_log(family, variant, data, config, monitor))
    if config.ensemble.enabled:
        from core.ensemble import train_ensemble_and_log

        monitor.report("ensemble", 1.0)
        with monitor.shielded():
            runs.append(train_ensemble_and_log(runs, data, config))
    monitor.report("promoting champion", 1.0)
    with monitor.shielded():
        champion = promote_best(config.tracking, config.evaluation.selection_metric)
    monitor.report("done", 1.0)
    return PipelineResult(runs, champion)
