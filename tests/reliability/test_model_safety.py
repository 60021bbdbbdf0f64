"""Model safety with real broken artifacts in a private registry: a missing, truncated or incompatible
registered model leaves the API not ready with a clear reason, a failed reload keeps the previous model,
and no request is ever answered by a half-loaded model."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import pytest
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema

from api import create_app
from core.tracking.registry import set_alias
from tests.api.conftest import make_settings
from tests.conftest import tiny_config
from tests.reliability.conftest import KEY


class Doubler(mlflow.pyfunc.PythonModel):
    """A valid MLflow model that is not a sentiment model (numbers in, numbers out)."""

    def predict(self, context, model_input):
        return model_input * 2


def _artifact_dir(client: MlflowClient, name: str, version: str) -> Path:
    source = client.get_model_version(name, version).source
    if source.startswith("models:/"):
        source = client.get_logged_model(source.removeprefix("models:/").split("/")[0]).artifact_location
    return Path(unquote(urlparse(source).path)) if source.startswith("file:") else Path(source)


@pytest.fixture(scope="module")
def registry(small_csv, tmp_path_factory):
    """A private store: a good champion (v1), a truncated copy, a copy with no files, an incompatible model."""
    from core.training.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("safety")
    config = dataclasses.replace(tiny_config(small_csv, root), preprocessing=("none",))
    run_pipeline(config)
    tracking = config.tracking
    client = MlflowClient()
    name = tracking.registered_model
    good = client.get_model_version_by_alias(name, tracking.champion_alias)
    source = _artifact_dir(client, name, good.version)

    truncated = root / "truncated"
    shutil.copytree(source, truncated)
    biggest = max((p for p in truncated.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[: biggest.stat().st_size // 2])
    missing = root / "missing"
    shutil.copytree(source, missing)
    versions = {"good": str(good.version)}
    for label, path in (("truncated", truncated), ("missing", missing)):
        versions[label] = str(client.create_model_version(name, str(path), run_id=good.run_id).version)
    shutil.rmtree(missing)
    signature = ModelSignature(inputs=Schema([ColSpec("double", "x")]), outputs=Schema([ColSpec("double")]))
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="doubler",
            python_model=Doubler(),
            signature=signature,
            pip_requirements=["mlflow"],
            registered_model_name=name,
        )
    versions["incompatible"] = str(max(int(v.version) for v in client.search_model_versions(f"name='{name}'")))
    set_alias(tracking, versions["good"])
    return tracking, versions, biggest.name


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("truncated", "its files are corrupt or incomplete"),
        ("missing", "Cannot load"),
        ("incompatible", "is not a tweet sentiment model: its signature takes [('x', 'double')]"),
    ],
)
def test_broken_model_leaves_the_api_not_ready_with_the_reason(registry, tmp_path, broken: str, reason: str) -> None:
    tracking, versions, _ = registry
    client = create_app(make_settings(tracking, tmp_path / "f.db", model_version=versions[broken])).test_client()
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.get_json()["error"].startswith("No model is loaded: ") and reason in ready.get_json()["error"]
    predict = client.post("/predict", json={"text": "lost my bag"})
    assert predict.status_code == 503 and reason in predict.get_json()["error"]
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("broken", ["truncated", "missing", "incompatible"])
def test_failed_reload_keeps_serving_the_previous_model_and_no_request_sees_a_half_loaded_one(
    registry, tmp_path, broken: str
) -> None:
    tracking, versions, _ = registry
    good = versions["good"]
    client = create_app(make_settings(tracking, tmp_path / "f.db", rate_limit_per_minute=0)).test_client()
    assert client.get("/ready").status_code == 200
    answers: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def hammer() -> None:  # requests in flight while the reloads happen
        while not stop.is_set():
            response = client.post("/predict", json={"texts": ["lost my bag", "great crew"]})
            body = response.get_json()
            versions_seen = {p["model"]["version"] for p in body.get("predictions", [])}
            answers.append((response.status_code, ",".join(sorted(versions_seen)) or None))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        set_alias(tracking, versions[broken])
        for _ in range(2):
            response = client.post("/model/reload", headers=KEY)
            assert response.status_code == 503
            assert response.get_json()["error"].startswith("Reload failed: ")
            assert response.get_json()["error"].endswith(f"Still serving version {good}.")
        assert client.get("/ready").get_json()["model"]["version"] == good
    finally:
        stop.set()
        thread.join(timeout=30)
        set_alias(tracking, good)
    assert answers and all(a == (200, good) for a in answers), set(answers)
