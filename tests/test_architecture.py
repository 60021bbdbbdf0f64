"""The dependency rules between the packages, checked on the source (STYLE.md).

``core`` imports none of ``api``, ``console``, ``client_app``; ``api`` imports ``core`` but
never ``console`` or ``client_app``; ``console`` imports ``core`` only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

RULES = {
    "core": {"api", "console", "client_app", "stack"},
    "api": {"console", "client_app", "stack"},
    "stack": {"api", "console", "client_app"},  # it starts them as processes, never imports them
    "console": {"api", "client_app", "stack"},  # a thin shell over core
}


def imported_top_levels(path: Path) -> set[str]:
    """Top-level package names a Python file imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_respects_dependency_rules(package: str) -> None:
    files = sorted((PROJECT_ROOT / package).rglob("*.py"))
    assert files, f"no source found for {package}"
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(imported_top_levels(path) & RULES[package]) for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_detector_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import api.routes\nfrom console import app\nfrom . import x\n")
    assert imported_top_levels(sample) == {"api", "console"}
