"""The README's main command: core job, then API, client app, console and MLflow UI served on loopback
until stopped."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from tests.harness import free_port

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml


def read_until(process: subprocess.Popen, marker: str, timeout_s: float) -> str:
    """Stdout of ``process`` up to the first line containing ``marker`` (read by a thread)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"'{marker}' not printed within {timeout_s} s; output so far:\n{''.join(seen)}")


def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "MLFLOW_TRACKING_URI")}
    return {**env, "API_FEEDBACK_DB": str(tmp_path / "feedback.db"), "PYTHONUNBUFFERED": "1"}


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_main_command_trains_then_serves_api_client_console_and_mlflow(small_csv: Path, tmp_path: Path) -> None:
    api_port, client_port, console_port, mlflow_port = free_port(), free_port(), free_port(), free_port()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stack",
            "--profile",
            "tiny",
            "--tracking-uri",
            uri,
            "--api-port",
            str(api_port),
            "--client-port",
            str(client_port),
            "--console-port",
            str(console_port),
            "--mlflow-port",
            str(mlflow_port),
        ],
        cwd=PROJECT_ROOT,
        env=stack_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        output = read_until(process, "MLflow UI:  http://", timeout_s=300)
        assert f"client app: http://127.0.0.1:{client_port}" in output
        assert f"console:    http://127.0.0.1:{console_port}" in output
        mlflow_url = f"http://127.0.0.1:{mlflow_port}"
        assert output.rstrip().endswith(f"MLflow UI:  {mlflow_url}")
        assert "| tfidf-" in output and f"API:        http://127.0.0.1:{api_port}" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/ready", timeout=5) as response:
            assert json.load(response)["status"] == "ready"
        with urllib.request.urlopen(f"http://127.0.0.1:{client_port}/", timeout=5) as response:
            assert response.status == 200 and 'id="tweet"' in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{console_port}/_stcore/health", timeout=5) as response:
            assert response.read().decode() == "ok"
        # The MLflow UI serves the store the training wrote: the champion the API serves, its run, the artifacts.
        with urllib.request.urlopen(f"{mlflow_url}/", timeout=10) as response:
            assert response.status == 200 and "<title>MLflow</title>" in response.read().decode()
        served = get_json(f"http://127.0.0.1:{api_port}/model")
        alias = get_json(f"{mlflow_url}/api/2.0/mlflow/registered-models/alias?name={served['name']}&alias=champion")
        assert alias["model_version"]["version"] == served["version"]
        run = get_json(f"{mlflow_url}/api/2.0/mlflow/runs/get?run_id={served['run_id']}")["run"]
        assert run["info"]["status"] == "FINISHED" and run["info"]["run_name"].startswith("tfidf-")
        assert run["info"]["artifact_uri"].startswith((tmp_path / "artifacts").resolve().as_uri())
        listed = get_json(f"{mlflow_url}/ajax-api/2.0/mlflow/artifacts/list?run_uuid={served['run_id']}")
        assert {"path": "evaluation", "is_dir": True} in listed["files"]  # the logged test predictions' folder
        # Training ran in a child process: the serving stack never loaded scikit-learn's libraries.
        child = int(output.split("core job running in process ", 1)[1].split()[0])
        assert child != process.pid
        assert "sklearn" not in Path(f"/proc/{process.pid}/maps").read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        time.sleep(0.5)
        for port in (api_port, client_port, console_port, mlflow_port):
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still served after stop"
    finally:
        if process.poll() is None:
            process.kill()


def test_busy_port_is_a_clear_error_before_training(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "stack", "--tracking-uri", f"sqlite:///{tmp_path}/m.db", "--api-port", str(port)],
            cwd=PROJECT_ROOT,
            env=stack_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    expected = (
        f"error: port {port} on 127.0.0.1 is already in use; "
        "choose another with --api-port/--client-port/--console-port/--mlflow-port."
    )
    assert proc.stdout.strip() == expected
    assert not (tmp_path / "m.db").exists()
