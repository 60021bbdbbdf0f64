"""Reading the delivery files: the compose file, the Dockerfiles' CMD, the slim requirement files."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import yaml

from core.config import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
DOCKER_DIR = PROJECT_ROOT / "docker"
DOCKERFILES = {name: DOCKER_DIR / f"{name}.Dockerfile" for name in ("api", "console", "client_app", "mlflow")}
WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"


def compose() -> dict[str, Any]:
    """The compose file as written (variables not substituted)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def env_example() -> dict[str, str]:
    """``.env.example`` as a dict."""
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def dockerfile_cmd(name: str) -> list[str]:
    """The exec-form ``CMD`` of ``docker/<name>.Dockerfile``."""
    text = DOCKERFILES[name].read_text()
    commands = re.findall(r"^CMD (\[.*\])\s*$", text, flags=re.MULTILINE)
    assert len(commands) == 1, f"{name}: expected one exec-form CMD, found {commands}"
    return json.loads(commands[0])


def _instructions(name: str, keyword: str) -> list[str]:
    """The ``keyword`` instructions of ``docker/<name>.Dockerfile``, continuation lines joined, keyword left out."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILES[name].read_text())
    return [line.removeprefix(f"{keyword} ") for line in text.splitlines() if line.startswith(f"{keyword} ")]


def dockerfile_env(name: str) -> dict[str, str]:
    """The ``ENV KEY=VALUE ...`` settings of ``docker/<name>.Dockerfile``."""
    pairs = [word.partition("=") for line in _instructions(name, "ENV") for word in shlex.split(line)]
    return {key: value for key, _, value in pairs}


def dockerfile_written_files(name: str) -> dict[str, str]:
    """{path: text} of the files ``docker/<name>.Dockerfile`` writes with ``printf '%s\\n' LINE... > PATH``
    (``${VAR}`` in the path resolved from its ``ENV``)."""
    env, files = dockerfile_env(name), {}
    for line in _instructions(name, "RUN"):
        words = shlex.split(line)
        for start in [i for i, word in enumerate(words) if word == "printf" and words[i + 1] == "%s\\n"]:
            end = words.index(">", start)
            path = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], words[end + 1])
            files[path] = "".join(f"{text}\n" for text in words[start + 2 : end])
    return files


def with_options(command: list[str], values: dict[str, str]) -> list[str]:
    """``command`` with the value after each option of ``values`` replaced.

    Raises:
        AssertionError: an option of ``values`` is not in ``command``.
    """
    result = list(command)
    for option, value in values.items():
        assert option in result, f"{option} missing from {command}"
        result[result.index(option) + 1] = value
    return result


def dockerfile_copies(name: str) -> list[tuple[list[str], str]]:
    """The ``COPY SRC... DEST`` lines of ``docker/<name>.Dockerfile`` (no ``--from`` stage copies)."""
    found = []
    for line in DOCKERFILES[name].read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, dest = shlex.split(line)[1:]
            found.append((sources, dest))
    return found


def copy_like_image(name: str, target: Path) -> Path:
    """The project files ``docker/<name>.Dockerfile`` copies into its working directory, laid out the
    same way under ``target`` (a source folder ending in ``/`` copies its contents, as Docker does)."""
    for sources, dest in dockerfile_copies(name):
        for source in sources:
            origin = PROJECT_ROOT / source
            where = target / dest.lstrip("./") if dest not in ("./", ".") else target
            if origin.is_dir():
                shutil.copytree(origin, where, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                folder = where if dest.endswith("/") else where.parent
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, folder / origin.name if dest.endswith("/") else where)
    return target
