"""Optuna tuning: nested MLflow runs per trial, the best trial's values reused for the final model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from core.config import Param, TuningConfig
from core.errors import ConfigError
from core.tracking.comparison import comparison_table
from core.training.pipeline import run_pipeline
from tests.conftest import tiny_config


def test_trials_are_nested_runs_and_best_values_are_reused(small_csv: Path, tmp_path: Path) -> None:
    config = tiny_config(small_csv, tmp_path)
    space = {"C": Param("float", 0.05, 50.0, log=True), "word_ngram_max": Param("int", 1, 2)}
    config = dataclasses.replace(
        config,
        preprocessing=("none",),
        tuning=TuningConfig(families=("tfidf",), n_trials=4, search_spaces={"tfidf": space}),
    )
    result = run_pipeline(config)
    parent = MlflowClient().get_run(result.runs[0].run_id)
    experiment = parent.info.experiment_id
    children = mlflow.search_runs([experiment], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 4
    assert children["metrics.human_select_roc_auc"].notna().all()  # trials are judged on human select
    best = children.loc[children["metrics.human_select_roc_auc"].idxmax()]
    # The final model is trained with the best trial's values.
    assert float(parent.data.params["models.tfidf.C"]) == pytest.approx(float(best["params.C"]))
    assert parent.data.params["models.tfidf.word_ngram_max"] == best["params.word_ngram_max"]
    assert parent.data.params["tuning.best.C"] == best["params.C"]
    assert parent.data.metrics["tuning_best_score"] == pytest.approx(best["metrics.human_select_roc_auc"])
    # Trials are not models: the comparison table and the registry only hold the final run.
    assert len(comparison_table(config.tracking)) == 1
    assert len(MlflowClient().search_model_versions(f"name='{config.tracking.registered_model}'")) == 1


def test_search_space_must_name_real_parameters() -> None:
    from core.config import PipelineConfig

    with pytest.raises(ConfigError, match="no parameter"):
        PipelineConfig(tuning=TuningConfig(families=("tfidf",), search_spaces={"tfidf": {"alpha": Param("int", 1, 2)}}))
    with pytest.raises(ConfigError, match="no search space"):
        TuningConfig(families=("use",), search_spaces={})
