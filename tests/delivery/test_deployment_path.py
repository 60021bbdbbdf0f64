"""The real deployment path, as docker-compose.yml and the CD workflow describe it, without Docker,
for every kind of champion the profiles can promote.

PostgreSQL (Debian's server, the ``postgres`` fixture) holds the MLflow backend store and the
API's event store; ``mlflow server`` runs with the compose file's command line (network and
storage pointed at loopback and ``tmp_path``). The API runs with the API image's gunicorn command
from the files the image copies (no training code), in a Python that sees only the standard
library and the distributions pinned in ``requirements-api.txt`` (the environment
``docker/api.Dockerfile`` builds). As on a fresh stack it starts with nothing to serve; the tiny
profile then trains over HTTP: TF-IDF, a Keras model, a (tiny) BERT, the ensemble of TF-IDF and
BERT and a student distilled from it. The champion, then the ensemble, then the student are
served: ``/ready``, ``/predict``, ``/explain``, ``/feedback`` (into PostgreSQL) and the CD smoke
test answer. The Keras version, which the image cannot load, is never champion, and an API
pinned to it says which module is missing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.config import PROJECT_ROOT, TrackingConfig
from tests.delivery.deployment import (
    API_KEY,
    MLFLOW_CREDENTIALS,
    env_without_tracking,
    log_tail,
    mlflow_server_command,
    slim_api_command,
)
from tests.delivery.slim_site import link_distributions, requirement_names
from tests.delivery.stack_files import compose, copy_like_image
from tests.harness import background, free_port, request, wait_until_ok
from tests.models.tiny_bert import build_tiny_bert

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

TWEETS = ["lost my bag again, worst airline ever", "great crew, thank you so much!"]


def _train(small_csv: Path, tracking: str, checkpoint: Path) -> None:
    """One tiny session over HTTP with every kind of model (700 of ~2,000 rows: the student gets the rest)."""
    settings = [
        "data.max_rows=700",
        "preprocessing=none",
        "families=tfidf,keras_embedding,bert,distilled",
        "ensemble.enabled=true",
        "ensemble.members=tfidf-none,bert-none",
        "models.distilled.teacher=ensemble-none",
        *[
            f"models.{family}.{key}"
            for family in ("bert", "distilled")
            for key in (
                f"checkpoint={checkpoint}",
                "max_length=32",
                "learning_rate=3e-3",
            )
        ],
    ]
    command = [sys.executable, "-m", "core", "train", "--profile", "tiny", "--data", str(small_csv)]
    command += ["--tracking-uri", tracking, *[arg for s in settings for arg in ("--set", s)]]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env_without_tracking(), capture_output=True, text=True, timeout=420
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _serve(base: str, api, api_log: Path, version: str, family: str) -> list[dict]:
    """Reload, check ``/model``, ``/predict`` and ``/explain`` for ``version``; returns the predictions."""
    status, body = request(f"{base}/model/reload", {}, headers={"X-API-Key": API_KEY})
    assert status == 200, (body, log_tail(api_log))
    wait_until_ok(f"{base}/ready", api, api_log, timeout_s=60)
    status, model = request(f"{base}/model")
    assert status == 200 and (model["version"], model["family"]) == (version, family), model
    status, body = request(f"{base}/predict", {"texts": TWEETS})
    assert status == 200, (body, log_tail(api_log))
    predictions = body["predictions"]
    assert all(0.0 <= p["probability_negative"] <= 1.0 for p in predictions)
    assert {p["model"]["version"] for p in predictions} == {version}
    status, explained = request(f"{base}/explain", {"text": TWEETS[0]})
    assert status == 200 and explained["tokens"], (explained, log_tail(api_log))
    return predictions


def test_the_api_image_copies_only_what_serving_needs(tmp_path) -> None:
    app = copy_like_image("api", tmp_path / "app")
    assert sorted(p.name for p in app.iterdir()) == ["api", "core", "requirements-api.txt"]
    assert not (app / "core" / "training").exists() and not (app / "core" / "retraining").exists()
    assert not (app / "core" / "cli.py").exists() and (app / "core" / "serving" / "predictor.py").exists()


def test_every_kind_of_champion_is_served_by_the_api_image(postgres, small_csv, tmp_path, monkeypatch) -> None:
    for name, value in MLFLOW_CREDENTIALS.items():  # this test's own MLflow client logs in too
        monkeypatch.setenv(name, value)
    backend = postgres.create_database("mlflow_deploy").replace("postgresql://", "postgresql+psycopg://", 1)
    events = postgres.create_database("events_deploy").replace("postgresql://", "postgresql+psycopg://", 1)
    mlflow_port, api_port, pinned_port = free_port(), free_port(), free_port()
    tracking, base = f"http://127.0.0.1:{mlflow_port}", f"http://127.0.0.1:{api_port}"
    api_env = compose()["services"]["api"]["environment"]
    assert {"MLFLOW_TRACKING_URI", "API_KEY", "EVENT_STORE_URL"} <= api_env.keys()
    env = env_without_tracking(
        MLFLOW_TRACKING_URI=tracking,
        API_KEY=API_KEY,
        EVENT_STORE_URL=events,
        API_FEEDBACK_DB=str(tmp_path / "feedback.db"),
    )
    checkpoint = build_tiny_bert(tmp_path / "tiny_bert")
    site = link_distributions(requirement_names(PROJECT_ROOT / "requirements-api.txt"), tmp_path / "site")
    app = copy_like_image("api", tmp_path / "app")  # the API runs from the image's copy: no training code
    mlflow_log, api_log, pinned_log = tmp_path / "mlflow.log", tmp_path / "api.log", tmp_path / "pinned.log"
    mlflow_command, mlflow_env = mlflow_server_command(backend, tmp_path / "artifacts", mlflow_port)
    with background(mlflow_command, mlflow_log, env=mlflow_env) as server:
        wait_until_ok(f"{tracking}/health", server, mlflow_log, timeout_s=120)
        # As on a fresh compose stack: the API starts with no champion to serve (503 on /ready),
        # the tiny profile trains against the server, then POST /model/reload picks the champion.
        # (Training starts once the API is up: both would otherwise race to create the experiment.)
        with background(slim_api_command(site, app, api_port), api_log, cwd=tmp_path, env=env) as api:
            wait_until_ok(f"{base}/health", api, api_log, timeout_s=90)
            status, body = request(f"{base}/ready")
            assert status == 503 and body["error"], body

            _train(small_csv, tracking, checkpoint)
            client = MlflowClient(tracking, registry_uri=tracking)
            registered = TrackingConfig().registered_model
            versions = {mv.tags["family"]: mv for mv in client.search_model_versions(f"name='{registered}'")}
            assert versions.keys() == {"tfidf", "keras_embedding", "bert", "ensemble", "distilled"}
            assert any((tmp_path / "artifacts").rglob("MLmodel"))  # artifacts went through the server's proxy
            keras = versions["keras_embedding"]
            assert keras.tags["api_image_servable"] == "false" and "keras" in keras.tags["api_image_missing"]
            assert all(versions[k].tags["api_image_servable"] == "true" for k in ("tfidf", "ensemble", "distilled"))
            assert (
                client.get_run(versions["distilled"].run_id).data.tags["teacher_run_id"] == versions["ensemble"].run_id
            )
            champion = client.get_model_version_by_alias(registered, "champion")
            assert champion.tags["family"] != "keras_embedding"

            predictions = _serve(base, api, api_log, champion.version, champion.tags["family"])
            status, feedback = request(
                f"{base}/feedback",
                {"prediction_id": predictions[0]["prediction_id"], "correct_label": "positive"},
                headers={"X-API-Key": API_KEY},
            )
            assert status == 201, (feedback, log_tail(api_log))  # the prediction event is in PostgreSQL
            smoke = subprocess.run(
                [sys.executable, str(PROJECT_ROOT / "docker" / "smoke_test.py"), base, "--timeout", "30"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert smoke.returncode == 0, (smoke.stderr, log_tail(api_log))
            assert f"v{champion.version}" in smoke.stdout

            for kind in ("ensemble", "distilled"):
                client.set_registered_model_alias(registered, "champion", versions[kind].version)
                _serve(base, api, api_log, versions[kind].version, kind)

        pinned_env = {**env, "API_MODEL_VERSION": keras.version}
        with background(slim_api_command(site, app, pinned_port), pinned_log, cwd=tmp_path, env=pinned_env) as api:
            pinned = f"http://127.0.0.1:{pinned_port}"
            wait_until_ok(f"{pinned}/health", api, pinned_log, timeout_s=90)
            status, body = request(f"{pinned}/ready")
            assert status == 503, body
            assert "needs the Python module" in body["error"], body
            assert "which this environment does not install" in body["error"], body
    # Nothing the served champions needed came from outside the slim set.
    assert "ModuleNotFoundError" not in api_log.read_text()
    assert "corrupt or incomplete" not in pinned_log.read_text()
