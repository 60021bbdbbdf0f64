"""Fixtures: one tiny pipeline session with calibration, lexicon features, a label-noise remedy and
the ensemble on, trained once into its own SQLite MLflow store (real tweets, seconds)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import CalibrationConfig, EnsembleConfig, NoiseConfig, PipelineConfig
from tests.conftest import tiny_config


@dataclass(frozen=True)
class PlateauSession:
    """The config and result of the tiny session with every plateau technique on."""

    config: PipelineConfig
    result: object


@pytest.fixture(scope="session")
def plateau_session(small_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> PlateauSession:
    """TF-IDF x (none, stem) with temperature calibration and a 2:1 cost threshold, the
    ``none``/``stem`` runs with lexicon features, cleanlab cleanup, and the ensemble of both."""
    from core.training.pipeline import run_pipeline

    config = tiny_config(small_csv, tmp_path_factory.mktemp("plateau"))
    config = dataclasses.replace(
        config,
        preprocessing=("none", "stem"),
        models=dataclasses.replace(
            config.models, tfidf=dataclasses.replace(config.models.tfidf, lexicon_features=True)
        ),
        calibration=CalibrationConfig(method="temperature", threshold_rule="cost", cost_missed_negative=2.0),
        noise=NoiseConfig(label_cleanup="cleanlab", cleanup_folds=3),
        ensemble=EnsembleConfig(enabled=True, n_candidates=30),
    )
    return PlateauSession(config, run_pipeline(config))
