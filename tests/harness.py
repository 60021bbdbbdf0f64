"""The shared test harness: free loopback ports, background processes (their own session, always
stopped), JSON requests, waiting for readiness, gunicorn serving the API, and percentiles.

The benchmark and load scripts use it too, so every latency figure follows one convention.
"""

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.serving.cost import nearest_rank


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def background(command: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen]:
    """Run ``command`` in its own process group (output to ``log``); stop the whole group on exit."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after ``grace_s``."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # leftovers (workers) even when the leader exited
    except ProcessLookupError:
        pass
    process.wait(timeout=grace_s)


def request(
    url: str, body: dict | None = None, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else "(no log)"


def wait_until_ok(url: str, process: subprocess.Popen, log: Path | None = None, timeout_s: float = 120.0) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` dies, with its log tail.

    Raises:
        AssertionError: no 200 within ``timeout_s``, or the process exited.
    """
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.3)
    raise AssertionError(f"{url} not 200 within {timeout_s:.0f} s (last: {last}):\n{_tail(log)}")


def gunicorn_command(port: int, workers: int = 1, threads: int = 4, *extra: str) -> list[str]:
    """gunicorn serving ``api:create_app()`` on loopback ``port``, in this Python."""
    bind = ["-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads)]
    return [sys.executable, "-m", "gunicorn", *bind, *extra, "api:create_app()"]


@contextmanager
def serving_api(
    env: dict[str, str], log: Path, workers: int = 1, threads: int = 4, cwd: Path | None = None, timeout_s: float = 120
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The API under gunicorn on a free loopback port, ready (``/ready`` answered 200); yields its base
    URL and process, and stops master and workers on exit."""
    port = free_port()
    with background(gunicorn_command(port, workers, threads), log, cwd=cwd, env=env) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_ok(f"{base}/ready", process, log, timeout_s)
        yield base, process


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values`` by the nearest-rank method: the smallest value with
    at least ``q`` % of the values at or below it (``nan`` when empty)."""
    return nearest_rank(values, q)  # one convention with the registration probe
