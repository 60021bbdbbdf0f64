"""Hyper-parameter optimisation with Optuna: each trial is a nested MLflow run.

A trial fits the family on train with sampled values and scores the selection metric on the
decision part (``evaluation.selection_part``: human ``select`` by default); test and human
``report`` are never looked at. The best values
are returned for the final training of the family.

This module's :func:`tune_family` keeps the study in memory and runs it here, trial after trial;
with ``tuning.storage``, worker processes share the study in that database instead
(:mod:`core.training.tuning_workers`, which builds on :func:`score_trial`; the pipeline picks).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import mlflow
import optuna

from core.config import Param, PipelineConfig
from core.data.prepared import PreparedData
from core.errors import ConfigError
from core.evaluation.metrics import compute_metrics
from core.training.fitting import decision_part, fit_classifier

logger = logging.getLogger(__name__)


def suggest(trial: optuna.Trial, name: str, param: Param) -> Any:
    """Draw one value of ``param`` for ``trial``."""
    if param.kind == "categorical":
        return trial.suggest_categorical(name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(name, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(name, float(param.low), float(param.high), log=param.log)


def with_family_values(config: PipelineConfig, family: str, values: dict[str, Any]) -> PipelineConfig:
    """A copy of ``config`` whose ``family`` config has ``values`` (validated by its dataclass)."""
    family_config = dataclasses.replace(config.models.for_family(family), **values)
    return dataclasses.replace(config, models=dataclasses.replace(config.models, **{family: family_config}))


def score_trial(
    number: int, family: str, variant: str, data: PreparedData, config: PipelineConfig, values: dict[str, Any]
) -> float:
    """Fit ``family`` with one trial's ``values`` and log the trial into the active (nested) MLflow run.

    Returns:
        The selection metric on the decision part (``evaluation.selection_part``).
    """
    part = config.evaluation.selection_part
    mlflow.set_tags({"family": family, "preprocessing": variant, "tuning_trial": str(number)})
    mlflow.log_params(values)
    classifier, facts = fit_classifier(family, variant, data, with_family_values(config, family, values))
    labels, texts = decision_part(data, data.processed(classifier.preprocessor), part)
    scores = compute_metrics(labels, classifier.predict_processed(texts), classifier.threshold)
    mlflow.log_metrics({f"{part}_{k}": float(v) for k, v in scores.items()})
    mlflow.log_metric("train_time_s", facts["train_time_s"])
    return float(scores[config.evaluation.selection_metric])


def tune_family(family: str, variant: str, data: PreparedData, config: PipelineConfig) -> dict[str, Any]:
    """Run the Optuna study of ``family`` inside the active (parent) MLflow run.

    Args:
        family: a family with a search space in ``config.tuning.search_spaces``.
        variant: preprocessing variant.
        data: the prepared split (:class:`core.data.prepared.PreparedData`).
        config: the pipeline config.

    Returns:
        The best trial's values (config field -> value).

    Raises:
        ConfigError: no search space for ``family``.
    """
    space = config.tuning.search_spaces.get(family)
    if not space:
        raise ConfigError(f"tuning: no search space for family '{family}'.")

    def objective(trial: optuna.Trial) -> float:
        values = {name: suggest(trial, name, param) for name, param in space.items()}
        with mlflow.start_run(run_name=f"{family}-{variant}-trial-{trial.number}", nested=True):
            return score_trial(trial.number, family, variant, data, config, values)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=config.seed))
    study.optimize(objective, n_trials=config.tuning.n_trials, timeout=config.tuning.timeout_s, show_progress_bar=True)
    return record_best(study.best_trial, len(study.trials), family, variant, config)


def record_best(
    best: optuna.trial.FrozenTrial, trials: int, family: str, variant: str, config: PipelineConfig
) -> dict[str, Any]:
    """Log the best trial's values and score into the active (parent) run; return its values."""
    mlflow.log_params({f"tuning.best.{k}": v for k, v in best.params.items()})
    mlflow.log_metrics({"tuning_best_score": float(best.value), "tuning_trials": float(trials)})
    logger.info(
        "Tuned %s-%s: best %s=%.4f with %s", family, variant, config.evaluation.selection_key, best.value, best.params
    )
    return dict(best.params)
