"""Learning curves: a tiny BERT and a tiny Keras model, each trained by the real pipeline, log their
training and validation loss step by step into their run; the Model page plots exactly that history.
A fit outside any MLflow run logs nothing (and starts no run)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from core.config import KerasEmbeddingConfig, TrackingConfig
from core.tracking.setup import configure_tracking
from tests.console.conftest import NeuralRun, figures, open_console
from tests.fixtures import easy_rows

pytestmark = pytest.mark.slow  # trains a BERT and a Keras model (see the markers in pyproject.toml)


def history(run: NeuralRun, key: str) -> tuple[list[int], list[float]]:
    """Steps and values of one metric of the run, as MLflow stores them."""
    configure_tracking(run.tracking)
    points = sorted(MlflowClient().get_metric_history(run.result.run_id, key), key=lambda m: m.step)
    return [m.step for m in points], [m.value for m in points]


@pytest.mark.parametrize("fixture", ["tiny_bert_run", "tiny_keras_run"])
def test_model_page_plots_the_learning_curve_the_run_logged(
    fixture: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    run: NeuralRun = request.getfixturevalue(fixture)
    at = open_console(monkeypatch, run.uri, "Model")
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="version").value == run.result.version

    traces = {trace.name: trace for trace in figures(at)["learning_curve"]}
    assert set(traces) == {"train_loss", "val_loss"}
    for key, trace in traces.items():
        steps, values = history(run, key)
        assert list(trace.x) == steps and list(trace.y) == pytest.approx(values)
        assert np.isfinite(values).all() and min(values) > 0

    logged = MlflowClient().get_run(run.result.run_id).data.metrics
    val_steps, val_losses = history(run, "val_loss")
    assert min(val_losses) == pytest.approx(logged["best_val_loss"])  # early stopping kept that point's weights
    assert val_steps == sorted(set(val_steps))  # one point per step
    if run.result.family == "bert":  # one point per validation check, at its optimizer step
        assert len(val_steps) == logged["val_checks"] and val_steps[-1] == logged["steps"]
        assert len(val_steps) >= 3
    else:  # one point per epoch
        assert val_steps == list(range(1, int(logged["epochs_run"]) + 1)) and len(val_steps) >= 2


def test_a_fit_outside_any_run_logs_nothing(tmp_path: Path) -> None:
    from core.models.keras_embedding import KerasEmbeddingModel

    tracking = TrackingConfig(store_dir=tmp_path / ".mlflow")
    configure_tracking(tracking)
    rows = easy_rows(120, seed=5)
    texts, labels = [t for _, t in rows], np.array([1 if p == 0 else 0 for p, _ in rows])
    model = KerasEmbeddingModel(KerasEmbeddingConfig(embedding_dim=8, hidden_units=8, epochs=2, sequence_length=12))
    facts = model.fit(texts[:90], labels[:90], texts[90:], labels[90:])
    assert facts["epochs_run"] >= 1
    assert mlflow.active_run() is None
    assert mlflow.search_runs(search_all_experiments=True).empty
