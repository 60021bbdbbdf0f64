"""The training pipeline: data -> split -> (family x preprocessing) runs -> registry -> champion.

Each run fits on train only, picks its decision threshold on validation, is scored on
validation, test and the stripped out-of-domain ``twitter_samples``, and is logged to MLflow
with the servable pyfunc model, then registered. The champion is chosen on validation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient
from tqdm.auto import tqdm

from core.config import STUDENT_FAMILIES, PipelineConfig
from core.data.prepared import PreparedData, prepare_data
from core.evaluation.behaviour import behaviour_metrics
from core.models.classifier import SentimentClassifier
from core.tracking.registry import VersionInfo, promote_best
from core.tracking.setup import configure_tracking
from core.training.distillation import check_teacher, train_student_and_log
from core.training.ensemble import check_members, train_ensemble_and_log
from core.training.fitting import (
    RunResult,
    evaluate_classifier,
    fit_classifier,
    log_and_register,
    run_params,
    run_tags,
)
from core.training.progress import RUN_MARKER, TrainingCancelled, TrainingMonitor
from core.training.tuning import tune_family, with_family_values
from core.training.tuning_workers import tune_in_study

__all__ = ["PipelineResult", "prepare_data", "run_pipeline", "train_and_log"]

logger = logging.getLogger(__name__)


@dataclass
class PipelineResult:
    """All runs of a pipeline session and the champion after promotion."""

    runs: list[RunResult]
    champion: VersionInfo | None


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
        tune = tune_in_study if config.tuning.storage is not None else tune_family
        config = with_family_values(config, family, tune(family, variant, data, config))
        mlflow.set_tag("tuned", "true")
    mlflow.log_params(run_params(family, variant, data, config))
    monitor.report("fitting")
    classifier, facts = fit_classifier(family, variant, data, config)
    monitor.report("evaluating")
    probabilities: dict[str, np.ndarray] = {}
    metrics = {**facts, **evaluate_classifier(classifier, data, probabilities, config.calibration.ece_bins)}
    metrics.update(behaviour_metrics(classifier))
    metrics["selection_score"] = metrics[config.evaluation.selection_key]
    return config, classifier, metrics, probabilities


def train_and_log(
    family: str, variant: str, data: PreparedData, config: PipelineConfig, monitor: TrainingMonitor | None = None
) -> RunResult:
    """One MLflow run: fit, evaluate, log params/metrics/tags/model, register a version.

    A cancellation (see :mod:`core.training.progress`) during tuning, fitting or evaluation ends the
    run as KILLED with nothing registered; once logging starts, the run is completed first.
    """
    monitor = monitor or TrainingMonitor()
    tags = run_tags(family, variant, data, config)
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
        monitor: receives progress reports and may cancel the session (see :mod:`core.training.progress`).

    Returns:
        The runs and the champion version.

    Raises:
        TrainingCancelled: the monitor was cancelled; finished runs stay registered, the
            current one ends as KILLED, the champion is not changed.
    """
    monitor = monitor or TrainingMonitor()
    pairs = [(f, v) for f in config.families if f not in STUDENT_FAMILIES for v in config.variants_for(f)]
    students = [f for f in config.families if f in STUDENT_FAMILIES]
    if config.ensemble.enabled:
        check_members(config.ensemble.members, [f"{f}-{v}" for f, v in pairs])  # before any training
    check_teacher(config, [f"{f}-{v}" for f, v in pairs])
    total = len(pairs) + len(students)
    configure_tracking(config.tracking)
    monitor.report("preparing data", 0.0)
    data = prepare_data(config)
    runs = []
    for index, (family, variant) in enumerate(tqdm(pairs, desc="training runs", unit="run"), start=1):
        monitor.start_run(index, total, f"{family}-{variant}")
        logger.info("%s%d/%d: %s-%s", RUN_MARKER, index, total, family, variant)
        runs.append(train_and_log(family, variant, data, config, monitor))
    if config.ensemble.enabled:
        monitor.report("ensemble", 1.0)
        with monitor.shielded():
            runs.append(train_ensemble_and_log(runs, data, config))
    for index, family in enumerate(students, start=len(pairs) + 1):
        monitor.start_run(index, total, f"{family}-none")
        logger.info("%s%d/%d: %s-none (student)", RUN_MARKER, index, total, family)
        runs.append(train_student_and_log(family, runs, data, config, monitor))
    monitor.report("promoting champion", 1.0)
    with monitor.shielded():
        champion = promote_best(config.tracking, config.evaluation.selection_key, config.serving)
    monitor.report("done", 1.0)
    return PipelineResult(runs, champion)
