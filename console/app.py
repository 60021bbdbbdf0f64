"""Entry point: ``streamlit run console/app.py`` (from the project root or anywhere)."""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit puts this script's folder on sys.path, not the project root that holds the packages.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from console.shell import main  # noqa: E402

main()
