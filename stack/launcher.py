"""Start the API, the client app, the console and the MLflow UI on loopback after the core job; stop
them on Ctrl-C."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core.cli import build_config
from core.cli import build_parser as core_parser
from core.config import PROJECT_ROOT
from core.config.paths import artifact_root

HOST = "127.0.0.1"


MLFLOW_SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
"""Without it, ``mlflow server`` also starts a job runner (a huey consumer with 10 worker processes)
for GenAI features (judges, scorers) that nothing here uses."""


@dataclass
class Service:
    """One server process of the stack (``group``: the leader of its own process group, stopped whole)."""

    name: str
    url: str
    process: subprocess.Popen
    group: bool = False

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process, or to its whole group; nothing if it is gone."""
        try:
            if self.group:
                os.killpg(self.process.pid, signum)
            elif self.process.poll() is None:
                self.process.send_signal(signum)
        except ProcessLookupError:
            pass


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``HOST:port``."""
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def wait_for(url: str, process: subprocess.Popen, timeout_s: float) -> bool:
    """Poll ``url`` until it answers 200, the process dies, or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def start(app: str, port: int, env: dict[str, str], threads: int = 4) -> subprocess.Popen:
    """A gunicorn process serving ``app`` (``module:factory()``) on ``HOST:port``."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # No control socket: two masters would share its default path.
    command = [str(gunicorn), "-b", f"{HOST}:{port}", "-w", "1", "--threads", str(threads), "--no-control-socket", app]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)


def start_console(port: int, env: dict[str, str]) -> subprocess.Popen:
    """The Streamlit experiment console (``streamlit run console/app.py``) on ``HOST:port``."""
    command = [sys.executable, "-m", "streamlit", "run", "console/app.py", "--server.headless", "true"]
    command += ["--server.address", HOST, "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)


def is_local_store(tracking_uri: str) -> bool:
    """Whether the store is a database or folder the stack opens itself (not an MLflow server, which
    has its UI already)."""
    return not tracking_uri.startswith(("http://", "https://"))


def mlflow_command(port: int, tracking_uri: str) -> list[str]:
    """``mlflow server`` (its UI and REST API) on ``HOST:port`` over the store at ``tracking_uri``: the
    backend store and artifact root the stack's training uses, one worker."""
    command = [str(Path(sys.executable).with_name("mlflow")), "server", "--backend-store-uri", tracking_uri]
    command += ["--host", HOST, "--port", str(port), "--workers", "1"]
    root = artifact_root(tracking_uri)
    return command + (["--default-artifact-root", root] if root else [])


def start_mlflow(port: int, tracking_uri: str, env: dict[str, str]) -> subprocess.Popen:
    """The MLflow UI on the store, in a process group of its own: ``mlflow server`` runs uvicorn as a
    child, which would outlive a signal sent to the ``mlflow`` process alone."""
    return subprocess.Popen(
        mlflow_command(port, tracking_uri), cwd=PROJECT_ROOT, env={**env, **MLFLOW_SERVER_ENV}, start_new_session=True
    )


def stop(services: list[Service]) -> None:
    """Terminate every server (a group leader with its group), then kill what has not exited after 10 s."""
    for service in services:
        service.signal(signal.SIGTERM)
    for service in services:
        try:
            service.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            service.signal(signal.SIGKILL)
            service.process.wait(timeout=10)
        if service.group:
            _reap_group(service)


def _reap_group(service: Service, grace_s: float = 5.0) -> None:
    """Wait for the rest of a stopped leader's group (given SIGTERM with it), then kill what is left."""
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(service.process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    service.signal(signal.SIGKILL)


def console_login(env: dict[str, str]) -> tuple[dict[str, str], str]:
    """The console's password (:mod:`console.auth`): the one ``env`` sets (``CONSOLE_PASSWORD`` or
    ``CONSOLE_PASSWORD_SHA256``), else a generated one; the variables to give the console, and the line
    that tells it (a set password is not printed, a generated one is, as the API key is)."""
    if (env.get("CONSOLE_PASSWORD_SHA256") or "").strip():
        return {}, "console password: the one whose SHA-256 is $CONSOLE_PASSWORD_SHA256"
    if (env.get("CONSOLE_PASSWORD") or "").strip():
        return {}, "console password: $CONSOLE_PASSWORD"
    password = secrets.token_urlsafe(12)
    return {"CONSOLE_PASSWORD": password}, f"console password: {password}"


def build_parser() -> argparse.ArgumentParser:
    """``python -m stack`` options: the core job's, plus ports."""
    parser = argparse.ArgumentParser(
        prog="python -m stack", description="Train if needed, then serve the API, client app, console and MLflow UI."
    )
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--client-port", type=int, default=8501)
    parser.add_argument("--console-port", type=int, default=8502, help="the Streamlit experiment console")
    parser.add_argument(
        "--mlflow-port",
        type=int,
        default=5000,
        help="the MLflow UI on the store (not started when --tracking-uri is an MLflow server: its UI is used)",
    )
    parser.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for the API's /ready")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: the embedded SQLite store)")
    parser.add_argument("--profile", default="quick", help="profile trained when no champion exists")
    return parser


def serve(args: argparse.Namespace, tracking_uri: str) -> int:
    """Start the MLflow UI, the API, the client and the console on the store at ``tracking_uri``, print
    their URLs, wait until interrupted."""
    api_key = os.environ.get("API_KEY") or secrets.token_urlsafe(16)
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "API_KEY": api_key}
    api_url = f"http://{HOST}:{args.api_port}"
    mlflow_url = f"http://{HOST}:{args.mlflow_port}" if is_local_store(tracking_uri) else tracking_uri.rstrip("/")
    services: list[Service] = []
    try:
        mlflow_server = None
        if is_local_store(tracking_uri):  # started first: it loads while the API does
            mlflow_server = start_mlflow(args.mlflow_port, tracking_uri, env)
            services.append(Service("MLflow UI", mlflow_url, mlflow_server, group=True))
        api = start("api:create_app()", args.api_port, env)
        services.append(Service("API", api_url, api))
        if not wait_for(f"{api_url}/ready", api, args.ready_timeout):
            print(f"error: the API did not become ready within {args.ready_timeout:.0f} s (see its log above).")
            return 1
        client_env = {**env, "CLIENT_API_URL": api_url, "CLIENT_API_KEY": api_key}
        client = start("client_app:create_app()", args.client_port, client_env)
        services.append(Service("client app", f"http://{HOST}:{args.client_port}", client))
        if not wait_for(f"http://{HOST}:{args.client_port}/", client, 30):
            print("error: the client app did not start (see its log above).")
            return 1
        login_env, login_line = console_login(env)
        console_env = {**env, "CONSOLE_MLFLOW_URL": mlflow_url, "CONSOLE_API_URL": api_url, "CONSOLE_API_KEY": api_key}
        console_env.update(login_env)
        console = start_console(args.console_port, console_env)
        services.append(Service("console", f"http://{HOST}:{args.console_port}", console))
        if not wait_for(f"http://{HOST}:{args.console_port}/_stcore/health", console, 60):
            print("error: the console did not start (see its log above).")
            return 1
        if mlflow_server is not None and not wait_for(f"{mlflow_url}/health", mlflow_server, 120):
            print("error: the MLflow UI did not start (see its log above).")
            return 1
        print(f"\nAPI:        {api_url}  (OpenAPI: {api_url}/openapi.json)", flush=True)
        print(f"client app: http://{HOST}:{args.client_port}", flush=True)
        print(f"console:    http://{HOST}:{args.console_port}", flush=True)
        print(f"MLflow UI:  {mlflow_url}", flush=True)
        print("API key for X-API-Key: " + ("$API_KEY" if os.environ.get("API_KEY") else api_key), flush=True)
        print(f"{login_line} (the console asks for it before launching, cancelling or promoting)", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while all(s.process.poll() is None for s in services):
            time.sleep(0.5)
        print("error: a server stopped unexpectedly (see its log above).")
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        stop(services)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the stack like Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the core job, then serve; returns the exit code."""
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    core_args = ["up", "--profile", args.profile] + (["--tracking-uri", args.tracking_uri] if args.tracking_uri else [])
    tracking = build_config(core_parser().parse_args(core_args)).tracking
    ports = [args.api_port, args.client_port, args.console_port]
    if is_local_store(tracking.resolved_uri()):
        ports.append(args.mlflow_port)
    for port in ports:  # before training, not after it
        if not port_is_free(port):
            print(
                f"error: port {port} on {HOST} is already in use; "
                "choose another with --api-port/--client-port/--console-port/--mlflow-port."
            )
            return 2
    code = run_core_job(core_args)
    if code != 0:
        return code
    return serve(args, tracking.resolved_uri())


def run_core_job(core_args: list[str]) -> int:
    """``python -m core up ...`` in a child process, so that the memory training takes (GBs for the
    ``quick`` profile) is given back before the stack serves; Ctrl-C or SIGTERM cancel it cleanly."""
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    child = subprocess.Popen([sys.executable, "-m", "core", *core_args], env={**os.environ, "PYTHONPATH": path})
    print(f"core job running in process {child.pid}", flush=True)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGTERM)  # the training's own handler ends its MLflow run as KILLED
        try:
            child.wait(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()
        print("\nstopped before serving.")
        return 130
