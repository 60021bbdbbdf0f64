"""The API in its own process: imports only what a TF-IDF champion needs; gunicorn serves it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from core.config import PROJECT_ROOT
from core.tracking.setup import resolve_tracking_uri
from tests.api.conftest import API_KEY

FORBIDDEN = ("console", "client_app", "tensorflow", "torch", "keras", "transformers")

_PROBE = f"""
import sys
from api import create_app
client = create_app().test_client()
assert client.get("/ready").status_code == 200, client.get("/ready").get_json()
assert client.post("/predict", json={{"text": "lost my bag"}}).status_code == 200
print(sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r}))
"""


def _env(tracking, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MLFLOW_TRACKING_URI=resolve_tracking_uri(tracking),
        API_FEEDBACK_DB=str(tmp_path / "feedback.db"),
        API_KEY=API_KEY,
    )
    return env


def test_serving_a_tfidf_champion_imports_no_ui_or_deep_learning_framework(tracking, tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=PROJECT_ROOT,
        env=_env(tracking, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_gunicorn_serves_the_app(tracking, tmp_path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "api:create_app()"],
        cwd=PROJECT_ROOT,
        env=_env(tracking, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # generous: CI machines may be busy
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _ = _request(f"{base}/ready")
                if status == 200:
                    break
            except OSError:  # refused while booting, or a read timeout while the worker loads the model
                pass
            time.sleep(0.3)
        assert status == 200, "gunicorn never became ready"
        status, body = _request(f"{base}/predict", {"texts": ["lost my bag again", "great crew, thanks"]})
        assert status == 200 and [p["label"] for p in body["predictions"]] == ["negative", "positive"]
        status, body = _request(f"{base}/predict", {"text": ""})
        assert status == 422 and "empty" in body["error"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, stderr = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert API_KEY not in stderr
