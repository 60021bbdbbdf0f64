"""A folder that holds only the distributions of one slim requirement file, to run a process on.

It stands in for the slim image's site-packages without installing anything: every file of each
listed distribution (its installed RECORD, ``.dist-info`` included) is linked from the current
environment into ``target`` with the same relative layout. A process started with ``python -S``
and this folder on ``sys.path`` sees the standard library, the project and these packages only.
"""

from __future__ import annotations

import importlib.metadata as metadata
from pathlib import Path

from packaging.requirements import Requirement

# ``python -S`` skips site-packages; this prelude puts the slim folder and the project first,
# then runs the command's console-script entry point (``gunicorn``) with its arguments.
LAUNCHER = """
import sys
site_dir, project, *argv = sys.argv[1:]
sys.path[:0] = [site_dir, project]
sys.argv = argv
if argv[0] != "gunicorn":
    raise SystemExit(f"unsupported entry point: {argv[0]}")
from gunicorn.app.wsgiapp import run
run()
"""


def requirement_names(requirements_file: Path) -> list[str]:
    """Distribution names of a pinned requirement file."""
    lines = [line.strip() for line in requirements_file.read_text().splitlines()]
    return [Requirement(line).name for line in lines if line and not line.startswith("#")]


def link_distributions(names: list[str], target: Path) -> Path:
    """Link every installed file of the distributions ``names`` into ``target``; returns it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            if file.parts[0] == "..":
                continue  # console scripts, outside site-packages
            source = Path(dist.locate_file(file))
            link = target / file
            if link.exists() or not source.exists():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)
    return target
