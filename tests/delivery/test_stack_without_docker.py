"""What docker-compose.yml describes, run without Docker on loopback.

PostgreSQL (Debian's server, the ``postgres`` fixture) holds the MLflow backend store and the
API's event store; ``mlflow server`` runs with the compose file's command line (its network and
storage options pointed at loopback and ``tmp_path``); the tiny profile trains against it over
HTTP; then the API runs with the API image's gunicorn command, in a Python that sees only the
standard library, the files the API image copies (no training code) and the distributions pinned
in ``requirements-api.txt``, loads the
champion from the server and answers. The CD workflow's smoke test script runs against it too.
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
from tests.delivery.stack_files import compose, copy_like_image
from tests.harness import background, free_port, request, wait_until_ok

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml


def test_the_api_image_copies_only_what_serving_needs(tmp_path) -> None:
    app = copy_like_image("api", tmp_path / "app")
    assert sorted(p.name for p in app.iterdir()) == ["api", "core", "requirements-api.txt"]
    assert not (app / "core" / "training").exists() and not (app / "core" / "retraining").exists()
    assert not (app / "core" / "cli.py").exists() and (app / "core" / "serving" / "predictor.py").exists()


def test_compose_stack_trains_and_serves_the_champion_from_mlflow_on_postgres(postgres, small_csv, tmp_path) -> None:
    backend = postgres.create_database("mlflow_delivery").replace("postgresql://", "postgresql+psycopg://", 1)
    events = postgres.create_database("events_delivery").replace("postgresql://", "postgresql+psycopg://", 1)
    mlflow_port, api_port = free_port(), free_port()
    tracking, base = f"http://127.0.0.1:{mlflow_port}", f"http://127.0.0.1:{api_port}"
    mlflow_log, api_log = tmp_path / "mlflow.log", tmp_path / "api.log"
    api_env = compose()["services"]["api"]["environment"]
    assert {"MLFLOW_TRACKING_URI", "API_KEY", "EVENT_STORE_URL"} <= api_env.keys()
    env = env_without_tracking(
        MLFLOW_TRACKING_URI=tracking,
        API_KEY=API_KEY,
        EVENT_STORE_URL=events,
        API_FEEDBACK_DB=str(tmp_path / "feedback.db"),
    )
    site = link_distributions(requirement_names(PROJECT_ROOT / "requirements-api.txt"), tmp_path / "site")
    app = copy_like_image("api", tmp_path / "app")  # the API runs from the image's copy: no training code

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

            train = subprocess.run(
                [sys.executable, "-m", "core", "train", "--profile", "tiny", "--data", str(small_csv)]
                + ["--tracking-uri", tracking],
                cwd=PROJECT_ROOT,
                env=env_without_tracking(),
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert train.returncode == 0, (train.stderr[-3000:], log_tail(mlflow_log))
            registered = TrackingConfig().registered_model
            champion = MlflowClient(tracking, registry_uri=tracking).get_model_version_by_alias(registered, "champion")
            assert any((tmp_path / "artifacts").rglob("MLmodel"))  # artifacts went through the server's proxy

            status, body = request(f"{base}/model/reload", {}, headers={"X-API-Key": API_KEY})
            assert status == 200, (body, log_tail(api_log))
            wait_until_ok(f"{base}/ready", api, api_log, timeout_s=30)

            status, body = request(f"{base}/predict", {"texts": ["lost my bag again, worst airline", "great crew!"]})
            assert status == 200, (body, log_tail(api_log))
            assert [p["label"] for p in body["predictions"]] == ["negative", "positive"]
            assert {p["model"]["version"] for p in body["predictions"]} == {champion.version}

            status, explained = request(f"{base}/explain", {"text": "lost my bag again, worst airline"})
            assert status == 200, (explained, log_tail(api_log))
            assert explained["label"] == "negative" and explained["tokens"]

            status, model = request(f"{base}/model")
            assert status == 200 and model["version"] == champion.version and model["family"] == "tfidf"

            prediction_id = body["predictions"][0]["prediction_id"]
            status, feedback = request(
                f"{base}/feedback",
                {"prediction_id": prediction_id, "correct_label": "positive"},
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

    # Nothing the API needed came from outside the slim set.
    assert "ModuleNotFoundError" not in api_log.read_text()
