"""The contract every model family must meet, checked through the real training entry point.

``check_family`` trains one family on the easy fixture into a fresh SQLite MLflow store, then
asserts that it beats chance on the held-out test split and that its registered pyfunc
reloads and predicts raw text identically to the in-memory classifier.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import mlflow
import numpy as np

from core.config import TrackingConfig, get_profile
from core.data.prepared import prepare_data
from core.tracking.registry import model_uri
from core.tracking.setup import configure_tracking
from core.training.fitting import RunResult
from core.training.pipeline import train_and_log

RAW_PROBES = [
    "My flight was DELAYED again &amp; they lost my bag!!! http://t.co/abc",
    "@AirParadise the crew was lovely, thanks :)",
    "worst service ever #fail",
    "an ordinary tweet about nothing",
]


def train_family(family: str, family_config: Any, data_path: Path, store: Path, variant: str = "none") -> RunResult:
    """One real pipeline run of ``family`` on ``data_path`` into a SQLite store under ``store``."""
    config = get_profile("tiny")
    models = dataclasses.replace(config.models, **{family: family_config})
    config = dataclasses.replace(
        config,
        families=(family,),
        preprocessing=(variant,),
        data=dataclasses.replace(config.data, path=data_path, max_rows=None, ood_max_rows=200),
        models=models,
        tracking=TrackingConfig(store_dir=store / ".mlflow"),
        cache_dir=store / ".cache",
    )
    configure_tracking(config.tracking)
    return train_and_log(family, variant, prepare_data(config), config)


def check_family(family: str, family_config: Any, data_path: Path, store: Path, min_test_auc: float = 0.8) -> RunResult:
    """Train, then assert: beats chance on held-out easy tweets; pyfunc round trip is identical."""
    result = train_family(family, family_config, data_path, store)
    assert result.metrics["test_roc_auc"] >= min_test_auc, result.metrics
    assert result.metrics["test_accuracy"] > 0.6, result.metrics
    uri = model_uri(TrackingConfig(store_dir=store / ".mlflow"), version=result.version)
    loaded = mlflow.pyfunc.load_model(uri, model_config={"runtime": "native"})  # the family's own scores
    out = loaded.predict(RAW_PROBES)
    in_memory = result.classifier.predict_proba(RAW_PROBES)
    np.testing.assert_allclose(out["probability_negative"].to_numpy(), in_memory, rtol=1e-5, atol=1e-6)
    assert out["label"].tolist() == result.classifier.labels(in_memory)
    assert result.classifier.model.predict_proba([]).shape == (0,)
    return result
