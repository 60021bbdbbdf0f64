"""A registered model loads and serves outside the repository: ``mlflow.pyfunc.load_model`` in a
process whose working directory and ``sys.path`` do not contain the project (the ``core`` package
comes from the model's own ``code`` folder), and ``mlflow models serve`` answering ``/invocations``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.serving.predictor import Predictor
from tests.harness import free_port
from tests.portability.isolation import isolated_env

TWEETS = ["my flight was delayed again and they lost my bag", "great crew, smooth landing, thank you!"]

LOAD = """
import importlib.util, json, os, sys
assert importlib.util.find_spec("core") is None, "core is importable before the model is loaded"
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model("models:/air-paradise-sentiment@champion")
out = model.predict(json.loads(sys.argv[2]))
import core
print(json.dumps({"core": core.__file__, "cwd": os.getcwd(), "sys_path": sys.path,
                  "p": [float(p) for p in out["probability_negative"]], "labels": list(out["label"])}))
"""


def test_a_registered_model_loads_from_a_folder_without_the_repository(tracking, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", LOAD, tracking.resolved_uri(), json.dumps(TWEETS)],
        cwd=elsewhere,
        env=isolated_env(tmp_path / "site"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    project = str(Path(__file__).resolve().parents[2])
    assert not any(entry.startswith(project + "/") and "/.venv/" not in entry for entry in seen["sys_path"])
    assert "/code/core/" in seen["core"] and not seen["core"].startswith(project)  # the model's own copy
    expected = Predictor(tracking).predict(TWEETS)
    assert seen["labels"] == [p.label for p in expected]
    assert seen["p"] == pytest.approx([p.probability_negative for p in expected], abs=1e-6)


@pytest.mark.slow
def test_mlflow_models_serve_answers_invocations_outside_the_repository(tracking, tmp_path: Path) -> None:
    port = free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    env = isolated_env(tmp_path / "site")
    # MLflow starts ``uvicorn`` by name: the virtual environment's scripts come first on PATH.
    env.update(MLFLOW_TRACKING_URI=tracking.resolved_uri(), PATH=f"{mlflow_cli.parent}:{env.get('PATH', '')}")
    command = [str(mlflow_cli), "models", "serve", "-m", "models:/air-paradise-sentiment@champion"]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    (tmp_path / "elsewhere").mkdir()
    server = subprocess.Popen(
        command, cwd=tmp_path / "elsewhere", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline, answer = time.monotonic() + 120, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = requests.post(f"http://127.0.0.1:{port}/invocations", json={"inputs": TWEETS}, timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert answer is not None, server.stdout.read().decode()[-3000:] if server.poll() is not None else "no answer"
        assert answer.status_code == 200, answer.text
        rows = answer.json()["predictions"]
        expected = Predictor(tracking).predict(TWEETS)
        assert [row["label"] for row in rows] == [p.label for p in expected]
        assert [row["probability_negative"] for row in rows] == pytest.approx(
            [p.probability_negative for p in expected], abs=1e-6
        )
    finally:
        server.terminate()
        server.wait(30)
