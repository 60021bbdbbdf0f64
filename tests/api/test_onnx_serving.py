"""The API serves a BERT champion through ONNX Runtime, with the same scores as PyTorch.

A tiny random BERT (2 layers) is fine-tuned by the real pipeline into its own SQLite store, so
the registered model carries its ONNX export exactly as a real champion does.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest

from api import ApiSettings, create_app
from core.config import BertConfig, TrackingConfig
from core.errors import ConfigError
from core.tracking.registry import model_uri
from tests.api.conftest import make_settings
from tests.fixtures import write_easy_csv
from tests.models.contract import train_family
from tests.models.tiny_bert import build_tiny_bert

TWEETS = ["my flight was delayed and my bag is lost", "thank you for a lovely flight", "ok"]


@pytest.fixture(scope="module")
def bert_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrackingConfig, str]:
    """A store holding a tiny fine-tuned BERT; returns its tracking config and registered version."""
    root = tmp_path_factory.mktemp("bert_store")
    config = BertConfig(
        checkpoint=str(build_tiny_bert(root / "checkpoint")), max_length=32, batch_size=16, epochs=2, learning_rate=3e-3
    )
    result = train_family("bert", config, write_easy_csv(root / "easy.csv", n=200), root)
    return TrackingConfig(store_dir=root / ".mlflow"), result.version


def _native_scores(tracking, version: str) -> np.ndarray:
    native = mlflow.pyfunc.load_model(model_uri(tracking, version=version), model_config={"runtime": "native"})
    return native.predict(TWEETS)["probability_negative"].to_numpy()


def test_bert_champion_is_served_by_onnx_runtime_with_pytorch_scores(bert_store, tmp_path: Path) -> None:
    tracking, version = bert_store
    settings = make_settings(tracking, tmp_path / "f.db", model_version=version, model_runtime="onnx")
    client = create_app(settings).test_client()
    model = client.get("/model").get_json()
    assert model["family"] == "bert" and model["runtime"] == "onnx" and model["version"] == version
    served = client.post("/predict", json={"texts": TWEETS}).get_json()["predictions"]
    np.testing.assert_allclose(
        [p["probability_negative"] for p in served], _native_scores(tracking, version), atol=1e-3
    )


def test_auto_serves_the_int8_graph_within_its_tolerance(bert_store, tmp_path: Path) -> None:
    tracking, version = bert_store
    client = create_app(make_settings(tracking, tmp_path / "f.db", model_version=version)).test_client()
    assert client.get("/model").get_json()["runtime"] == "onnx_int8"  # the fastest export kept at save time
    served = client.post("/predict", json={"texts": TWEETS}).get_json()["predictions"]
    np.testing.assert_allclose(  # within the int8 save-time bound
        [p["probability_negative"] for p in served], _native_scores(tracking, version), atol=0.25
    )


def test_runtime_is_chosen_by_setting(bert_store, tmp_path: Path) -> None:
    tracking, version = bert_store
    for runtime in ("native", "onnx_int8"):
        settings = make_settings(tracking, tmp_path / f"{runtime}.db", model_version=version, model_runtime=runtime)
        client = create_app(settings).test_client()
        assert client.get("/model").get_json()["runtime"] == runtime
        assert client.post("/predict", json={"text": TWEETS[0]}).status_code == 200


def test_onnx_runtime_on_a_model_without_export_is_not_ready_with_the_reason(tracking, tmp_path: Path) -> None:
    client = create_app(make_settings(tracking, tmp_path / "f.db", model_runtime="onnx")).test_client()
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "has no onnx export" in ready.get_json()["error"]


def test_runtime_setting_is_validated() -> None:
    assert ApiSettings.from_env({"API_MODEL_RUNTIME": "onnx_int8"}).model_runtime == "onnx_int8"
    assert ApiSettings.from_env({}).model_runtime == "auto"
    with pytest.raises(ConfigError, match="API_MODEL_RUNTIME must be one of auto, native, onnx, onnx_int8"):
        ApiSettings.from_env({"API_MODEL_RUNTIME": "tensorrt"})
