"""The deployment path without Docker: the compose file's MLflow server command and the API image's
gunicorn command in a Python that sees only the slim requirement set (see :mod:`tests.delivery.slim_site`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.config import DEFAULT_NLTK_DATA
from tests.delivery.slim_site import LAUNCHER
from tests.delivery.stack_files import compose, dockerfile_cmd, with_options

API_KEY = "delivery-test-key"


def env_without_tracking(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH", "API_KEY")}
    return {**env, "NLTK_DATA": str(DEFAULT_NLTK_DATA), "HF_HUB_OFFLINE": "1", **extra}


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text()[-chars:] if log.exists() else ""


def mlflow_server_command(backend: str, artifacts: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The compose file's MLflow command and environment, on loopback and ``artifacts``."""
    service = compose()["services"]["mlflow"]
    assert service["command"][:2] == ["mlflow", "server"] and "--serve-artifacts" in service["command"]
    local = with_options(
        service["command"],
        {
            "--artifacts-destination": str(artifacts),
            "--host": "127.0.0.1",
            "--port": str(port),
            "--workers": "1",  # one is plenty here and starts in a third of the time on 2 cores
        },
    )
    assert set(service["environment"]) == {"MLFLOW_BACKEND_STORE_URI", "MLFLOW_SERVER_ALLOWED_HOSTS"}
    env = env_without_tracking(MLFLOW_BACKEND_STORE_URI=backend, MLFLOW_SERVER_ALLOWED_HOSTS=f"127.0.0.1:{port}")
    return [sys.executable, "-m", "mlflow", *local[1:]], env


def slim_api_command(site: Path, app: Path, port: int) -> list[str]:
    gunicorn = with_options(dockerfile_cmd("api"), {"--bind": f"127.0.0.1:{port}"})
    return [sys.executable, "-S", "-c", LAUNCHER, str(site), str(app), *gunicorn]
