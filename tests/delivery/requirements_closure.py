"""Pinned requirement files for the slim images, derived from the project's ``requirements.txt``.

Each image installs a subset of the project's pins: the closure of a few root distributions
under their declared dependencies (``Requires-Dist``, environment markers evaluated for this
interpreter, extras only where a root asks for them), read from the installed environment.
``python -m tests.delivery.requirements_closure`` rewrites the files; the tests check that they
are still exact.
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.config import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements.txt"

SLIM_ROOTS: dict[str, tuple[str, ...]] = {
    # The API loading its champion from an MLflow server over HTTP (mlflow-skinny: client and
    # pyfunc loading, no server): TF-IDF (scikit-learn) or the BERT family through ONNX Runtime
    # (no PyTorch); the event store on SQLite or PostgreSQL; the Application Insights exporter.
    "requirements-api.txt": (
        "Flask",
        "gunicorn",
        "mlflow-skinny",
        "pandas",
        "numpy",
        "scikit-learn",
        "joblib",
        "nltk",
        "onnxruntime",
        "tokenizers",
        "SQLAlchemy",
        "psycopg",
        "psycopg-binary",
        "azure-monitor-opentelemetry-exporter",
        "opentelemetry-sdk",
    ),
    # The client app: a Flask page calling the API over HTTP.
    "requirements-client.txt": ("Flask", "gunicorn", "requests"),
    # The MLflow tracking server of the compose stack, on PostgreSQL.
    "requirements-mlflow.txt": ("mlflow", "psycopg", "psycopg-binary"),
}


def pinned_lines(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``requirements.txt`` as {canonical name: its exact line}."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pins[canonicalize_name(Requirement(line).name)] = line
    return pins


def _requires(name: str, extras: set[str]) -> list[Requirement]:
    needed = []
    for raw in metadata.requires(name) or []:
        req = Requirement(raw)
        if req.marker is None:
            needed.append(req)
            continue
        if any(req.marker.evaluate({"extra": extra}) for extra in extras or {""}):
            needed.append(req)
    return needed


def closure(roots: tuple[str, ...]) -> set[str]:
    """Canonical names of ``roots`` and everything they declare they need, transitively."""
    seen: set[str] = set()
    todo = [Requirement(root) for root in roots]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = name if not req.extras else f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        todo.extend(_requires(name, set(req.extras)))
    return {key.split("[")[0] for key in seen}


def slim_lines(roots: tuple[str, ...], pins: dict[str, str] | None = None) -> list[str]:
    """The lines of ``requirements.txt`` that the closure of ``roots`` needs, in file order.

    Raises:
        KeyError: a needed distribution has no pin in ``requirements.txt``.
    """
    pins = pinned_lines() if pins is None else pins
    needed = closure(roots)
    missing = sorted(needed - pins.keys())
    if missing:
        raise KeyError(f"not pinned in requirements.txt: {', '.join(missing)}")
    return [line for name, line in pins.items() if name in needed]


def main() -> None:
    """Rewrite every slim requirement file from ``requirements.txt``."""
    for file_name, roots in SLIM_ROOTS.items():
        lines = slim_lines(roots)
        (PROJECT_ROOT / file_name).write_text("\n".join(lines) + "\n")
        sys.stdout.write(f"{file_name}: {len(lines)} pins\n")


if __name__ == "__main__":
    main()
