"""The dependency rules, checked on the source (STYLE.md), imports inside functions included.

Between the packages: ``core`` imports none of ``api``, ``console``, ``client_app``, ``stack``;
``api`` and ``console`` import ``core`` but never each other; ``client_app`` talks HTTP only.

Inside ``core``: the layers of :data:`CORE_LAYERS`, top first. A module may import its own
subpackage and any layer below its own, never one above; the subpackages sharing a layer are
independent (neither imports the other). No import cycle between modules, and every ``core``
import sits at the top of its module, except in the CLI (each command loads its stage lazily).
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
    "client_app": {"core", "api", "console", "stack"},  # HTTP only
}

CORE_LAYERS: list[tuple[str, ...]] = [
    ("core.__main__",),
    ("core.cli",),
    ("core.retraining",),
    ("core.training", "core.monitoring"),
    ("core.serving",),
    ("core.tracking", "core.explanations"),
    ("core.models",),
    ("core.evaluation",),
    ("core.data",),
    ("core.config",),
    ("core.errors",),
]
"""Top first. ``core/__init__.py`` (the version) imports nothing."""

ENTRY_POINTS = {"__init__.py", "__main__.py", "cli.py", "errors.py"}
LAZY_CORE_IMPORTS_ALLOWED = {"core.cli"}
CORE = PROJECT_ROOT / "core"


def imported_top_levels(path: Path) -> set[str]:
    """Top-level package names a Python file imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def module_name(path: Path, root: Path = PROJECT_ROOT) -> str:
    """``core/data/loading.py`` -> ``core.data.loading``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(CORE.rglob("*.py"))}


def core_imports(path: Path, modules: set[str], root: Path = PROJECT_ROOT) -> list[tuple[str, bool]]:
    """The ``core`` modules one file imports, anywhere in it, each with whether the import is at the
    module's top level (``if TYPE_CHECKING`` blocks count as imports, not top level)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = set(map(id, tree.body))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from core.x import y`` imports core.x.y when that is a module, else a name of core.x
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            if target == "core" or target.startswith("core."):
                found.append((target, id(node) in top))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = core_modules()
    names = set(modules)
    return {name: {t for t, _ in core_imports(path, names) if t != name} for name, path in modules.items()}


def layer_of(module: str) -> tuple[int, str] | None:
    """(layer index, the subpackage or entry module that places it) of a ``core`` module."""
    for index, members in enumerate(CORE_LAYERS):
        for member in members:
            if module == member or module.startswith(member + "."):
                return index, member
    return None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer or across to an independent sibling."""
    found = []
    for source, targets in sorted(graph.items()):
        if source == "core":
            continue
        here = layer_of(source)
        for target in sorted(targets):
            there = layer_of(target)
            if there is None or here is None:
                found.append(f"{source} -> {target}: not in CORE_LAYERS")
            elif there[0] < here[0]:
                found.append(f"{source} -> {target}: upward ({there[1]} sits above {here[1]})")
            elif there[0] == here[0] and there[1] != here[1]:
                found.append(f"{source} -> {target}: {here[1]} and {there[1]} are independent")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_respects_dependency_rules(package: str) -> None:
    files = sorted((PROJECT_ROOT / package).rglob("*.py"))
    assert files, f"no source found for {package}"
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(imported_top_levels(path) & RULES[package]) for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_modules_respect_the_layers() -> None:
    assert layer_violations(import_graph()) == []


def test_core_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_core_imports_sit_at_the_top_of_each_module() -> None:
    modules = core_modules()
    lazy = {
        name: sorted({target for target, at_top in core_imports(path, set(modules)) if not at_top})
        for name, path in modules.items()
        if name not in LAZY_CORE_IMPORTS_ALLOWED
    }
    assert {name: targets for name, targets in lazy.items() if targets} == {}


def test_every_core_module_is_in_a_subpackage_but_the_entry_points() -> None:
    assert sorted(p.name for p in CORE.glob("*.py")) == sorted(ENTRY_POINTS)
    for package in (p for p in CORE.iterdir() if p.is_dir() and p.name != "__pycache__"):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc) > 80, f"{package.name}/__init__.py needs a docstring saying what it owns"


def test_detector_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import api.routes\nfrom console import app\nfrom . import x\n")
    assert imported_top_levels(sample) == {"api", "console"}


def test_the_checks_catch_an_upward_import_a_sibling_import_and_a_cycle() -> None:
    graph = {
        "core.data.loading": {"core.models.base"},  # upward
        "core.training.fitting": {"core.monitoring.events"},  # independent siblings
        "core.models.a": {"core.models.b"},
        "core.models.b": {"core.models.a"},  # a cycle inside one layer
        "core.models.base": set(),
        "core.monitoring.events": set(),
    }
    assert layer_violations(graph) == [
        "core.data.loading -> core.models.base: upward (core.models sits above core.data)",
        "core.training.fitting -> core.monitoring.events: core.training and core.monitoring are independent",
    ]
    assert cycles(graph) == [["core.models.a", "core.models.b"]]


def test_a_function_level_import_is_seen_and_placed(tmp_path: Path) -> None:
    module = tmp_path / "core" / "data" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from core.errors import E\nif TYPE_CHECKING:\n    from core.models import M\n"
        "def f():\n    from . import y\n    from ..config import paths\n"
    )
    found = core_imports(module, {"core.data.y", "core.config.paths"}, root=tmp_path)
    assert set(found) == {
        ("core.errors", True),
        ("core.models", False),
        ("core.data.y", False),
        ("core.config.paths", False),
    }
