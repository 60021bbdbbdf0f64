"""The API image's packages (``requirements-api.txt``) import every serving path and no training framework."""

from __future__ import annotations

import os
import subprocess
import sys

from core.config import PROJECT_ROOT
from tests.delivery.slim_site import link_distributions, requirement_names

_PROBE = """
import importlib, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
serving = ["api", "api.app", "core.models.tfidf", "core.models.bert_onnx", "core.serving.predictor",
           "core.monitoring.telemetry", "core.monitoring.event_store", "psycopg", "onnxruntime", "tokenizers",
           "sklearn", "gunicorn.app.wsgiapp"]
for name in serving:
    importlib.import_module(name)
absent = []
for name in ["torch", "tensorflow", "keras", "transformers", "streamlit", "optuna", "mlflow.server"]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        absent.append(name)
print(",".join(absent))
"""


def test_slim_api_packages_import_serving_paths_but_no_training_framework(tmp_path) -> None:
    site = link_distributions(requirement_names(PROJECT_ROOT / "requirements-api.txt"), tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-S", "-c", _PROBE, str(site), str(PROJECT_ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    absent = result.stdout.strip().splitlines()[-1].split(",")
    assert absent == ["torch", "tensorflow", "keras", "transformers", "streamlit", "optuna", "mlflow.server"]
