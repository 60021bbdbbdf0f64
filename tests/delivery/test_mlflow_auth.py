"""The compose stack's MLflow server asks for a login: MLflow's basic-auth app, its admin from ``.env``,
which the API and the console (and the trainings the console starts) send as MLflow clients do.

The real check runs the compose file's ``mlflow server`` command with the MLflow image's auth settings
(:func:`tests.delivery.deployment.mlflow_server_command`) on loopback, on SQLite stores in ``tmp_path``."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from stack.launcher import MLFLOW_SERVER_ENV
from tests.delivery.deployment import MLFLOW_CREDENTIALS, mlflow_server_command
from tests.delivery.stack_files import compose, dockerfile_cmd, dockerfile_env, env_example
from tests.harness import background, free_port, wait_until_ok

ADMIN = (MLFLOW_CREDENTIALS["MLFLOW_TRACKING_USERNAME"], MLFLOW_CREDENTIALS["MLFLOW_TRACKING_PASSWORD"])
SEARCH = "/api/2.0/mlflow/experiments/search?max_results=10"


def test_compose_runs_the_basic_auth_app_and_gives_its_clients_the_admin_login() -> None:
    services = compose()["services"]
    mlflow_service = services["mlflow"]
    command = mlflow_service["command"]
    assert command[command.index("--app-name") + 1] == "basic-auth"
    assert dockerfile_cmd("mlflow")[dockerfile_cmd("mlflow").index("--app-name") + 1] == "basic-auth"
    environment = mlflow_service["environment"]
    # The admin the server creates is the login its clients send: both from .env, both required.
    assert environment["MLFLOW_AUTH_ADMIN_USERNAME"].startswith("${MLFLOW_TRACKING_USERNAME:?")
    assert environment["MLFLOW_AUTH_ADMIN_PASSWORD"].startswith("${MLFLOW_TRACKING_PASSWORD:?")
    assert environment["MLFLOW_FLASK_SERVER_SECRET_KEY"].startswith("${MLFLOW_SECRET_KEY:?")
    for name in ("api", "console"):
        client_env = services[name]["environment"]
        assert client_env["MLFLOW_TRACKING_USERNAME"].startswith("${MLFLOW_TRACKING_USERNAME:?"), name
        assert client_env["MLFLOW_TRACKING_PASSWORD"].startswith("${MLFLOW_TRACKING_PASSWORD:?"), name
    # The user store outlives the container, on a volume of its own at the image's database path.
    assert dockerfile_env("mlflow")["MLFLOW_AUTH_CONFIG_PATH"] == "/mlflow/basic_auth.ini"
    assert "mlflow-auth:/mlflow/auth" in mlflow_service["volumes"] and "mlflow-auth" in compose()["volumes"]
    assert len(env_example()["MLFLOW_TRACKING_PASSWORD"]) >= 12  # MLflow refuses a shorter admin password


def get(url: str, login: tuple[str, str] | None = None) -> int:
    """The HTTP status of ``GET url``, with HTTP basic authentication when ``login`` is given."""
    request = urllib.request.Request(url)
    if login:
        token = base64.b64encode(":".join(login).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[str]:
    """The compose file's MLflow server (basic-auth app, the image's auth settings) on loopback, on a
    SQLite backend store and a SQLite user store in ``tmp_path``; its URL once ``/health`` answers."""
    port = free_port()
    command, env = mlflow_server_command(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts", port)
    env.update(MLFLOW_SERVER_ENV)  # no GenAI job runner: nothing here uses it, and it is 10 processes
    log = tmp_path / "mlflow.log"
    with background(command, log, env=env) as server:
        url = f"http://127.0.0.1:{port}"
        wait_until_ok(f"{url}/health", server, log, timeout_s=180)
        yield url
    assert (tmp_path / "mlflow-auth" / "basic_auth.db").exists()  # the users went to the configured store


@pytest.mark.slow  # starts an MLflow server (about 30 s on 2 cores)
def test_the_mlflow_server_refuses_requests_without_the_admin_login(
    auth_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get(f"{auth_server}/health") == 200  # the container's health check needs no login
    assert get(f"{auth_server}{SEARCH}") == 401
    assert get(f"{auth_server}/") == 401  # the UI too
    assert get(f"{auth_server}{SEARCH}", (ADMIN[0], "not-the-password")) == 401
    assert get(f"{auth_server}{SEARCH}", ADMIN) == 200
    assert get(f"{auth_server}/", ADMIN) == 200
    # The image trusts a checked login for a while (auth_cache_ttl_seconds): never another password.
    assert get(f"{auth_server}{SEARCH}", (ADMIN[0], "not-the-password")) == 401
    assert get(f"{auth_server}{SEARCH}") == 401

    # An MLflow client without the login is refused...
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    with pytest.raises(MlflowException, match="401|Unauthorized|credentials"):
        MlflowClient(auth_server).create_experiment("refused")

    # ... and one given MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (what compose gives the API
    # and the console) creates a run, logs to it and stores an artifact through the server's proxy.
    for name, value in MLFLOW_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = MlflowClient(auth_server)
    experiment = client.create_experiment("behind-the-login")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "f1_negative", 0.8)
    (tmp_path / "note.txt").write_text("logged through the auth proxy\n")
    client.log_artifact(run.info.run_id, str(tmp_path / "note.txt"))
    client.set_terminated(run.info.run_id)

    stored = client.get_run(run.info.run_id)
    assert stored.data.metrics == {"f1_negative": 0.8} and stored.info.status == "FINISHED"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["note.txt"]
    assert list((tmp_path / "artifacts").rglob("note.txt"))  # on the server's artifact store
    assert {e.name for e in client.search_experiments()} == {"behind-the-login", "Default"}
