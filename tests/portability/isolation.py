"""A Python start-up that cannot see the repository: for tests of what works outside it.

``isolated_env(folder)`` returns an environment whose ``PYTHONPATH`` holds only ``folder``, where a
``sitecustomize.py`` (run by ``site`` after the ``.pth`` files) removes the editable install's
import hooks of this project and every ``sys.path`` entry inside the repository but the virtual
environment's. A process started with it, from a working directory outside the repository, finds
``core`` only where a model brings it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.config import PROJECT_ROOT

SITECUSTOMIZE = """
import sys
_ROOT, _VENV = {root!r}, {venv!r}
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path_hooks[:] = [h for h in sys.path_hooks if not getattr(h, "__module__", "").startswith("__editable__")]
sys.path_importer_cache.clear()
_inside = lambda p: (p + "/").startswith(_ROOT + "/") and not p.startswith(_VENV)
sys.path[:] = [p for p in sys.path if p and not p.startswith("__editable__") and not _inside(p)]
"""


def isolated_env(folder: Path) -> dict[str, str]:
    """Write the ``sitecustomize.py`` into ``folder``; the environment that uses it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        SITECUSTOMIZE.format(root=str(PROJECT_ROOT), venv=str(Path(sys.prefix).resolve()) + "/")
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONPATH": str(folder), "PYTHONNOUSERSITE": "1"}
