"""The distillation step: a student (:mod:`core.models.distilled`) fine-tuned on a teacher's P(negative).

Runs after the ensemble. The teacher is a run of the session (``distilled.teacher``, default the
ensemble) or a registered version (its number, or ``champion``). The student's pool is every tweet
the session may train on without human labels: the training split (its ``twitter_samples``
included) and, with ``distilled.unused_rows``, the Sentiment140 rows the profile's sample leaves
out, already deduplicated against validation, test, out-of-domain and human-labelled tweets (see
:func:`core.data.prepared.unused_rows`). ``distilled.max_train_samples`` caps the pool (seeded).
Each pooled tweet's target is the teacher's calibrated P(negative); its emoticon label is not used.
The student is then calibrated, thresholded, scored, logged and registered like any run, tagged
with its teacher's run and version.
"""

from __future__ import annotations

import logging
import time

import mlflow
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from core.config import PipelineConfig
from core.data.prepared import PreparedData
from core.data.preprocessing import Preprocessor
from core.errors import ConfigError
from core.evaluation.behaviour import behaviour_metrics
from core.models.classifier import SentimentClassifier
from core.tracking.registry import alias_version, model_uri
from core.training.fitting import (
    RunResult,
    evaluate_classifier,
    fit_classifier,
    log_and_register,
    run_params,
    run_tags,
)
from core.training.progress import TrainingMonitor

logger = logging.getLogger(__name__)

_SCORING_CHUNK = 2048
"""Pool tweets the teacher scores at a time (a progress bar step; bounded memory)."""


def registered_teacher(teacher: str) -> bool:
    """Whether ``distilled.teacher`` names a registered version (a number or ``champion``) rather than a run."""
    return teacher == "champion" or teacher.isdigit()


def check_teacher(config: PipelineConfig, run_names: list[str]) -> None:
    """Refuse, before training, a student whose teacher the session will not have.

    Raises:
        ConfigError: the teacher names a run the session does not train.
    """
    for family in config.families:
        teacher = getattr(config.models.for_family(family), "teacher", None)
        if teacher is None or registered_teacher(teacher):
            continue
        names = [*run_names, "ensemble-none"] if config.ensemble.enabled else run_names
        if teacher not in names:
            raise ConfigError(
                f"{family}.teacher: no run named '{teacher}' in this session (runs: {', '.join(names)}); "
                "name one of them, a registered version number, or 'champion'."
            )


def teacher_classifier(teacher: str, runs: list[RunResult], config: PipelineConfig) -> tuple[SentimentClassifier, dict]:
    """The teacher's classifier and the tags that link the student to it.

    Raises:
        ConfigError: a registered teacher that does not exist.
    """
    if not registered_teacher(teacher):
        run = next(r for r in runs if f"{r.family}-{r.preprocessing}" == teacher)
        return run.classifier, {"teacher": teacher, "teacher_run_id": run.run_id, "teacher_version": run.version}
    version = alias_version(config.tracking) if teacher == "champion" else teacher
    if version is None:
        raise ConfigError("distilled.teacher=champion, but the registry has no champion yet.")
    try:
        pyfunc = mlflow.pyfunc.load_model(model_uri(config.tracking, version=version))
    except mlflow.exceptions.MlflowException as exc:
        raise ConfigError(f"distilled.teacher: registered version {version} cannot be loaded ({exc}).") from None
    return pyfunc.unwrap_python_model().classifier, {
        "teacher": f"version {version}",
        "teacher_run_id": pyfunc.metadata.run_id,
        "teacher_version": str(version),
    }


def student_pool(data: PreparedData, cap: int | None, seed: int) -> pd.DataFrame:
    """The student's pool (``text``, emoticon ``label``): the training split then the unused rows,
    capped (seeded) at ``cap``. The student reads only ``text``; ``label`` is for comparisons."""
    parts = [data.split.train[["text", "label"]]]
    if data.unused is not None:
        parts.append(data.unused[["text", "label"]])
    pool = pd.concat(parts, ignore_index=True)
    if cap is not None and cap < len(pool):
        pool = pool.iloc[np.sort(np.random.default_rng(seed).choice(len(pool), size=cap, replace=False))]
    return pool.reset_index(drop=True)


def teacher_probabilities(teacher: SentimentClassifier, texts: list[str]) -> np.ndarray:
    """The teacher's calibrated P(negative) per raw tweet, scored in chunks with a progress bar."""
    out = []
    with tqdm(total=len(texts), desc="teacher labelling", unit="tweet") as progress:
        for start in range(0, len(texts), _SCORING_CHUNK):
            chunk = texts[start : start + _SCORING_CHUNK]
            out.append(teacher.predict_proba(chunk))
            progress.update(len(chunk))
    return np.concatenate(out) if out else np.zeros(0)


def train_student_and_log(
    family: str, runs: list[RunResult], data: PreparedData, config: PipelineConfig, monitor: TrainingMonitor
) -> RunResult:
    """Label the pool with the teacher, fine-tune the student on it, log the run and register it.

    A cancellation while labelling or fitting ends the run as KILLED with nothing registered.

    Returns:
        The student's run (preprocessing ``none``).
    """
    settings = config.models.for_family(family)
    variant = config.variants_for(family)[0]
    teacher, teacher_tags = teacher_classifier(settings.teacher, runs, config)
    tags = {**run_tags(family, variant, data, config), **teacher_tags}
    with monitor.shielded():
        run = mlflow.start_run(run_name=f"{family}-{variant}", tags=tags)
    try:
        classifier, metrics, test_probabilities = _fit_student(family, variant, teacher, data, config, monitor)
    except BaseException:
        mlflow.end_run("KILLED" if monitor.cancel_requested else "FAILED")
        raise
    monitor.report("logging model")
    with monitor.shielded(), run:
        version = log_and_register(classifier, metrics, test_probabilities, data, config, family, variant)
    logger.info(
        "%s-%s (teacher %s): %s=%.4f",
        family,
        variant,
        teacher_tags["teacher"],
        config.evaluation.selection_key,
        metrics["selection_score"],
    )
    return RunResult(run.info.run_id, family, variant, version, metrics, classifier)


def _fit_student(
    family: str,
    variant: str,
    teacher: SentimentClassifier,
    data: PreparedData,
    config: PipelineConfig,
    monitor: TrainingMonitor,
) -> tuple[SentimentClassifier, dict[str, float], np.ndarray]:
    """Label the pool, fit and evaluate the student inside the active run (the cancellable part)."""
    settings = config.models.for_family(family)
    mlflow.log_params(run_params(family, variant, data, config))
    monitor.report("teacher labelling")
    pool = list(student_pool(data, settings.max_train_samples, config.seed)["text"])
    start = time.perf_counter()
    targets = teacher_probabilities(teacher, pool)
    labelling_s = time.perf_counter() - start
    processed = Preprocessor(variant, config.data.resolved_nltk_data()).transform(pool)
    monitor.report("fitting")
    classifier, facts = fit_classifier(family, variant, data, config, training=(processed, targets))
    monitor.report("evaluating")
    probabilities: dict[str, np.ndarray] = {}
    metrics = {**facts, **evaluate_classifier(classifier, data, probabilities, config.calibration.ece_bins)}
    metrics.update(behaviour_metrics(classifier))
    metrics.update(
        {
            "n_pool": float(len(pool)),
            "n_pool_unused_rows": float(0 if data.unused is None else len(data.unused)),
            "teacher_labelling_s": labelling_s,
            "teacher_mean_p_negative": float(targets.mean()) if len(targets) else float("nan"),
        }
    )
    metrics["selection_score"] = metrics[config.evaluation.selection_key]
    return classifier, metrics, probabilities["test"]
