"""Settings from the environment, and the rule that the client app talks to the API over HTTP only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from client_app import ClientSettings
from client_app.api_client import opposite_label
from client_app.errors import ClientConfigError
from core.config import PROJECT_ROOT
from tests.test_architecture import imported_top_levels

FORBIDDEN = {"api", "core", "console"}


def test_settings_defaults_from_an_empty_environment() -> None:
    settings = ClientSettings.from_env({})
    assert (settings.api_url, settings.api_key, settings.timeout_s) == ("http://127.0.0.1:8000", None, 5.0)


def test_settings_from_environment() -> None:
    env = {"CLIENT_API_URL": " http://api.local:9000/ ", "CLIENT_API_KEY": "s3cret", "CLIENT_API_TIMEOUT_S": "2.5"}
    settings = ClientSettings.from_env(env)
    assert (settings.api_url, settings.api_key, settings.timeout_s) == ("http://api.local:9000", "s3cret", 2.5)
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CLIENT_API_TIMEOUT_S": "soon"}, "must be a number"),
        ({"CLIENT_API_TIMEOUT_S": "0"}, "positive"),
        ({"CLIENT_API_URL": "api.local:9000"}, "must start with http"),
    ],
)
def test_bad_settings_raise_one_sentence(env: dict[str, str], message: str) -> None:
    with pytest.raises(ClientConfigError, match=message):
        ClientSettings.from_env(env)


def test_opposite_label() -> None:
    assert (opposite_label("negative"), opposite_label("positive")) == ("positive", "negative")
    with pytest.raises(ValueError):
        opposite_label("neutral")


def test_client_app_source_imports_no_project_package() -> None:
    files = sorted((PROJECT_ROOT / "client_app").rglob("*.py"))
    assert files
    offenders = {str(p.relative_to(PROJECT_ROOT)): sorted(imported_top_levels(p) & FORBIDDEN) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_running_the_client_app_loads_no_project_package() -> None:
    probe = (
        "import sys\nfrom client_app import ClientSettings, create_app\n"
        "create_app(ClientSettings()).test_client().get('/')\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
