"""The console served by ``streamlit run`` on a free loopback port (browser test, screenshot script),
and the MLflow UI beside it, started by the stack's own ``mlflow server`` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.config import PROJECT_ROOT
from stack.launcher import MLFLOW_SERVER_ENV, mlflow_command
from tests.harness import background, free_port, wait_until_ok


def healthy(url: str) -> bool:
    """Whether Streamlit answers its health check at ``url``."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serve_console(
    tracking_uri: str | None, log_path: Path, wait_s: float, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve ``console/app.py`` (on ``tracking_uri``, else the default store; ``extra_env`` added to its
    environment, e.g. ``CONSOLE_MLFLOW_URL``); yield its URL, stop it on exit.

    Raises:
        RuntimeError: the console exited before serving (its log in the message), or did not
            answer within ``wait_s`` seconds.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "console/app.py", "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none"]
    command += ["--browser.gatherUsageStats", "false"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"the console exited before serving:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the console did not answer within {wait_s:.0f} s (log: {log_path})")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def serve_mlflow(tracking_uri: str, log_path: Path, wait_s: float) -> Iterator[str]:
    """The MLflow UI as ``python -m stack`` starts it (:func:`stack.launcher.mlflow_command`) on the store
    at ``tracking_uri``, on a free loopback port; yield its URL once ``/health`` answers, stop its
    process group on exit."""
    port = free_port()
    env = {**os.environ, **MLFLOW_SERVER_ENV}
    with background(mlflow_command(port, tracking_uri), log_path, cwd=PROJECT_ROOT, env=env) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_ok(f"{url}/health", process, log_path, wait_s)
        yield url
