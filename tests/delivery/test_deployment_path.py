"""The real deployment path for every kind of champion the profiles can promote.

An MLflow server on PostgreSQL (the compose file's command); the tiny profile trains, over HTTP,
TF-IDF, a (tiny) BERT, their ensemble and a student distilled from the ensemble, plus a Keras
model; the API runs with the API image's gunicorn command from the image's files, in a Python
that sees only the distributions of ``requirements-api.txt`` (the environment
``docker/api.Dockerfile`` builds). The ensemble and the student are each promoted, reloaded and
answer ``/ready``, ``/predict`` and ``/explain``. The Keras version, which the image cannot load,
is refused the champion alias, and an API pinned to it says which module is missing.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from core.config import PROJECT_ROOT, TrackingConfig
from tests.delivery.deployment import (
    API_KEY,
    env_without_tracking,
    log_tail,
    mlflow_server_command,
    slim_api_command,
)
from tests.delivery.slim_site import link_distributions, requirement_names
from tests.delivery.stack_files import copy_like_image
from tests.harness import background, free_port, request, wait_until_ok
from tests.models.tiny_bert import build_tiny_bert

pytestmark = pytest.mark.slow

TWEETS = ["lost my bag again, worst airline ever", "great crew, thank you so much!"]


def _train(small_csv, tracking: str, checkpoint, *overrides: str) -> None:
    settings = [
        "data.max_rows=700",
        "preprocessing=none",
        f"models.bert.checkpoint={checkpoint}",
        f"models.distilled.checkpoint={checkpoint}",
        "models.bert.max_length=32",
        "models.distilled.max_length=32",
        "models.bert.learning_rate=3e-3",
        "models.distilled.learning_rate=3e-3",
        *overrides,
    ]
    command = [sys.executable, "-m", "core", "train", "--profile", "tiny", "--data", str(small_csv)]
    command += ["--tracking-uri", tracking, *[arg for s in settings for arg in ("--set", s)]]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env_without_tracking(), capture_output=True, text=True, timeout=420
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _serve_and_check(base: str, api, api_log, version: str, family: str) -> None:
    status, body = request(f"{base}/model/reload", {}, headers={"X-API-Key": API_KEY})
    assert status == 200, (body, log_tail(api_log))
    wait_until_ok(f"{base}/ready", api, api_log, timeout_s=60)
    status, model = request(f"{base}/model")
    assert status == 200 and (model["version"], model["family"]) == (version, family), model
    status, body = request(f"{base}/predict", {"texts": TWEETS})
    assert status == 200, (body, log_tail(api_log))
    probabilities = [p["probability_negative"] for p in body["predictions"]]
    assert all(0.0 <= p <= 1.0 for p in probabilities) and {p["model"]["version"] for p in body["predictions"]} == {
        version
    }
    status, explained = request(f"{base}/explain", {"text": TWEETS[0]})
    assert status == 200 and explained["tokens"], (explained, log_tail(api_log))


def test_every_kind_of_champion_is_served_by_the_api_image(postgres, small_csv, tmp_path) -> None:
    backend = postgres.create_database("mlflow_deploy").replace("postgresql://", "postgresql+psycopg://", 1)
    events = postgres.create_database("events_deploy").replace("postgresql://", "postgresql+psycopg://", 1)
    mlflow_port, api_port, pinned_port = free_port(), free_port(), free_port()
    tracking = f"http://127.0.0.1:{mlflow_port}"
    checkpoint = build_tiny_bert(tmp_path / "tiny_bert")
    site = link_distributions(requirement_names(PROJECT_ROOT / "requirements-api.txt"), tmp_path / "site")
    app = copy_like_image("api", tmp_path / "app")
    env = env_without_tracking(
        MLFLOW_TRACKING_URI=tracking,
        API_KEY=API_KEY,
        EVENT_STORE_URL=events,
        API_FEEDBACK_DB=str(tmp_path / "feedback.db"),
    )
    mlflow_log, api_log, pinned_log = tmp_path / "mlflow.log", tmp_path / "api.log", tmp_path / "pinned.log"
    mlflow_command, mlflow_env = mlflow_server_command(backend, tmp_path / "artifacts", mlflow_port)
    with background(mlflow_command, mlflow_log, env=mlflow_env) as server:
        wait_until_ok(f"{tracking}/health", server, mlflow_log, timeout_s=120)
        _train(small_csv, tracking, checkpoint, "families=keras_embedding")
        _train(
            small_csv,
            tracking,
            checkpoint,
            "families=tfidf,bert,distilled",
            "ensemble.enabled=true",
            "models.distilled.teacher=ensemble-none",
        )
        client = MlflowClient(tracking, registry_uri=tracking)
        registered = TrackingConfig().registered_model
        versions = {mv.tags["family"]: mv for mv in client.search_model_versions(f"name='{registered}'")}
        assert {"keras_embedding", "tfidf", "bert", "ensemble", "distilled"} <= versions.keys()
        keras = versions["keras_embedding"]
        assert keras.tags["api_image_servable"] == "false" and "keras" in keras.tags["api_image_missing"]
        for kind in ("ensemble", "distilled"):
            assert versions[kind].tags["api_image_servable"] == "true", versions[kind].tags
        champion = client.get_model_version_by_alias(registered, "champion")
        assert champion.tags["family"] != "keras_embedding"
        student_run = client.get_run(versions["distilled"].run_id)
        assert student_run.data.tags["teacher_run_id"] == versions["ensemble"].run_id

        with background(slim_api_command(site, app, api_port), api_log, cwd=tmp_path, env=env) as api:
            base = f"http://127.0.0.1:{api_port}"
            wait_until_ok(f"{base}/health", api, api_log, timeout_s=90)
            for kind in ("ensemble", "distilled"):
                client.set_registered_model_alias(registered, "champion", versions[kind].version)
                _serve_and_check(base, api, api_log, versions[kind].version, kind)

        pinned_env = {**env, "API_MODEL_VERSION": keras.version}
        with background(slim_api_command(site, app, pinned_port), pinned_log, cwd=tmp_path, env=pinned_env) as api:
            pinned = f"http://127.0.0.1:{pinned_port}"
            wait_until_ok(f"{pinned}/health", api, pinned_log, timeout_s=90)
            status, body = request(f"{pinned}/ready")
            assert status == 503, body
            assert (
                "needs the Python module" in body["error"]
                and "which this environment does not install" in body["error"]
            ), body
    assert "corrupt or incomplete" not in pinned_log.read_text()
