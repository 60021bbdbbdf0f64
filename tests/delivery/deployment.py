"""The deployment path without Docker: the compose file's MLflow server command and the API image's
gunicorn command in a Python that sees only the slim requirement set (see :mod:`tests.delivery.slim_site`)."""

from __future__ import annotations

import configparser
import os
import secrets
import sys
from pathlib import Path

from core.config import DEFAULT_NLTK_DATA
from tests.delivery.slim_site import LAUNCHER
from tests.delivery.stack_files import compose, dockerfile_cmd, dockerfile_env, dockerfile_written_files, with_options

API_KEY = "delivery-test-key"
MLFLOW_CREDENTIALS = {"MLFLOW_TRACKING_USERNAME": "delivery-admin", "MLFLOW_TRACKING_PASSWORD": "delivery-admin-pw"}
"""What ``.env`` gives the MLflow server as its admin and its clients (the API, the trainings) as theirs."""


def env_without_tracking(**extra: str) -> dict[str, str]:
    """The test's environment without its tracking URI, API key or MLflow login, with the stack's MLflow
    login (:data:`MLFLOW_CREDENTIALS`, as compose gives the API and the console), then ``extra``."""
    dropped = ("MLFLOW_TRACKING_URI", "PYTHONPATH", "API_KEY", *MLFLOW_CREDENTIALS)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "NLTK_DATA": str(DEFAULT_NLTK_DATA), "HF_HUB_OFFLINE": "1", **MLFLOW_CREDENTIALS, **extra}


def mlflow_auth_config(folder: Path) -> Path:
    """The MLflow image's basic-auth settings (``$MLFLOW_AUTH_CONFIG_PATH``, written by its Dockerfile)
    with the user store moved to a SQLite file in ``folder``; the settings file written there."""
    image_path = dockerfile_env("mlflow")["MLFLOW_AUTH_CONFIG_PATH"]
    config = configparser.ConfigParser()
    config.read_string(dockerfile_written_files("mlflow")[image_path])
    assert config["mlflow"]["database_uri"].startswith("sqlite:////mlflow/auth/")  # on the image's auth volume
    folder.mkdir(parents=True, exist_ok=True)
    config["mlflow"]["database_uri"] = f"sqlite:///{folder / 'basic_auth.db'}"
    path = folder / "basic_auth.ini"
    with path.open("w") as out:
        config.write(out)
    return path


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text()[-chars:] if log.exists() else ""


def mlflow_server_command(backend: str, artifacts: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The compose file's MLflow command and environment, on loopback and ``artifacts``: the basic-auth
    app with the image's settings (its user store beside ``artifacts``) and :data:`MLFLOW_CREDENTIALS`
    as its admin."""
    service = compose()["services"]["mlflow"]
    command = service["command"]
    assert command[:2] == ["mlflow", "server"] and "--serve-artifacts" in command
    assert command[command.index("--app-name") + 1] == "basic-auth"
    local = with_options(
        service["command"],
        {
            "--artifacts-destination": str(artifacts),
            "--host": "127.0.0.1",
            "--port": str(port),
            "--workers": "1",  # one is plenty here and starts in a third of the time on 2 cores
        },
    )
    assert set(service["environment"]) == {
        "MLFLOW_BACKEND_STORE_URI",
        "MLFLOW_SERVER_ALLOWED_HOSTS",
        "MLFLOW_AUTH_ADMIN_USERNAME",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION",
    }
    env = env_without_tracking(
        MLFLOW_BACKEND_STORE_URI=backend,
        MLFLOW_SERVER_ALLOWED_HOSTS=f"127.0.0.1:{port}",
        MLFLOW_AUTH_CONFIG_PATH=str(mlflow_auth_config(artifacts.parent / "mlflow-auth")),
        MLFLOW_AUTH_ADMIN_USERNAME=MLFLOW_CREDENTIALS["MLFLOW_TRACKING_USERNAME"],
        MLFLOW_AUTH_ADMIN_PASSWORD=MLFLOW_CREDENTIALS["MLFLOW_TRACKING_PASSWORD"],
        MLFLOW_FLASK_SERVER_SECRET_KEY=secrets.token_hex(16),
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION=service["environment"]["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"],
    )
    return [sys.executable, "-m", "mlflow", *local[1:]], env


def slim_api_command(site: Path, app: Path, port: int) -> list[str]:
    gunicorn = with_options(dockerfile_cmd("api"), {"--bind": f"127.0.0.1:{port}"})
    return [sys.executable, "-S", "-c", LAUNCHER, str(site), str(app), *gunicorn]
