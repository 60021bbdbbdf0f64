"""Calibration: temperature and isotonic fits, ECE, the cost threshold, and the calibrated
classifier saved, logged, served and read back (also from folders saved before calibration)."""

from __future__ import annotations

import json
import shutil

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from core.config import CalibrationConfig, apply_override, get_profile
from core.errors import ConfigError
from core.evaluation.calibration import (
    Calibrator,
    calibrate_and_threshold,
    cost_threshold,
    expected_calibration_error,
    expected_cost,
)
from core.models.classifier import SentimentClassifier
from core.tracking.registry import model_uri
from core.tracking.setup import configure_tracking


def _overconfident(n: int = 4000, scale: float = 3.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z) and a model reporting sigmoid(scale * z): over-confident by ``scale``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, n)
    y = (rng.random(n) < expit(z)).astype(int)
    return y, expit(scale * z)


def test_temperature_recovers_the_overconfidence_and_lowers_ece() -> None:
    y, p = _overconfident()
    calibrator = Calibrator.fit("temperature", y, p)
    assert calibrator.temperature == pytest.approx(3.0, rel=0.15)
    calibrated = calibrator.transform(p)
    assert expected_calibration_error(y, calibrated) < 0.5 * expected_calibration_error(y, p)
    assert roc_auc_score(y, calibrated) == pytest.approx(roc_auc_score(y, p), abs=1e-4)  # ranking kept


def test_isotonic_fit_lowers_ece_and_round_trips_through_json() -> None:
    y, p = _overconfident(seed=1)
    calibrator = Calibrator.fit("isotonic", y, p)
    assert expected_calibration_error(y, calibrator.transform(p)) < 0.5 * expected_calibration_error(y, p)
    again = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    np.testing.assert_allclose(again.transform(p), calibrator.transform(p))
    assert np.all(np.diff(again.transform(np.linspace(0, 1, 50))) >= 0)


def test_ece_of_known_cases() -> None:
    assert expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.0)
    assert expected_calibration_error([0, 0, 0, 0], [0.9, 0.9, 0.9, 0.9]) == pytest.approx(0.9)
    assert np.isnan(expected_calibration_error([], []))


def test_cost_threshold_is_bayes_optimal_on_calibrated_probabilities() -> None:
    assert cost_threshold(2.0, 1.0) == pytest.approx(1 / 3)
    assert cost_threshold(1.0, 1.0) == pytest.approx(0.5)
    y, p = _overconfident(n=20000, seed=2)
    calibrated = Calibrator.fit("temperature", y, p).transform(p)
    grid = np.linspace(0.05, 0.95, 91)
    costs = [expected_cost(y, calibrated, t, 2.0, 1.0) for t in grid]
    assert abs(grid[int(np.argmin(costs))] - 1 / 3) < 0.08
    with pytest.raises(ConfigError):
        cost_threshold(0.0, 1.0)


def test_config_validation_and_overrides() -> None:
    with pytest.raises(ConfigError, match="calibration.method"):
        CalibrationConfig(method="platt")
    with pytest.raises(ConfigError, match="threshold_rule"):
        CalibrationConfig(threshold_rule="magic")
    with pytest.raises(ConfigError, match="positive"):
        CalibrationConfig(cost_false_alarm=0)
    config = apply_override(get_profile("tiny"), "calibration.method=isotonic")
    assert config.calibration.method == "isotonic" and get_profile("quick").calibration.threshold_rule == "cost"
    y, p = _overconfident(n=500)
    calibrator, threshold = calibrate_and_threshold(CalibrationConfig(), "f1_negative", y, p)
    assert calibrator is None and 0.05 <= threshold <= 0.95


def test_pipeline_logs_ece_and_serves_calibrated_probabilities(plateau_session) -> None:
    config = plateau_session.config
    run = next(r for r in plateau_session.result.runs if (r.family, r.preprocessing) == ("tfidf", "none"))
    classifier = run.classifier
    assert classifier.calibrator is not None and classifier.calibrator.method == "temperature"
    assert classifier.threshold == pytest.approx(1 / 3)
    configure_tracking(config.tracking)
    logged = MlflowClient().get_run(run.run_id).data
    for part in ("val", "test", "ood"):
        assert 0.0 <= logged.metrics[f"{part}_ece"] <= 1.0 and f"{part}_ece_raw" in logged.metrics
    assert logged.metrics["calibration_temperature"] > 0 and logged.params["calibration.method"] == "temperature"
    # Calibrated on validation: the validation ECE is no worse than the raw model's.
    assert logged.metrics["val_ece"] <= logged.metrics["val_ece_raw"] + 1e-9
    texts = ["my flight was delayed again", "thanks for a lovely flight", "lost my bag"]
    served = mlflow.pyfunc.load_model(model_uri(config.tracking, version=run.version)).predict(texts)
    np.testing.assert_allclose(served["probability_negative"], classifier.predict_proba(texts), rtol=1e-6)
    raw = classifier.model.predict_proba(classifier.preprocessor.transform(texts))
    np.testing.assert_allclose(served["probability_negative"], classifier.calibrator.transform(raw), rtol=1e-6)


def test_folder_saved_without_calibrator_loads_raw(plateau_session, tmp_path) -> None:
    run = next(r for r in plateau_session.result.runs if r.family == "tfidf")
    folder = run.classifier.save(tmp_path / "new")
    old = shutil.copytree(folder, tmp_path / "old")
    meta = json.loads((old / "classifier.json").read_text())
    assert "calibration" in meta
    del meta["calibration"]
    (old / "classifier.json").write_text(json.dumps(meta))
    texts = ["worst airline ever", "great crew"]
    loaded_old, loaded_new = SentimentClassifier.load(old), SentimentClassifier.load(folder)
    assert loaded_old.calibrator is None and loaded_new.calibrator == run.classifier.calibrator
    raw = run.classifier.model.predict_proba(run.classifier.preprocessor.transform(texts))
    np.testing.assert_allclose(loaded_old.predict_proba(texts), raw)
    np.testing.assert_allclose(loaded_new.predict_proba(texts), run.classifier.predict_proba(texts))
