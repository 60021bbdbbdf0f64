"""Entry point: ``streamlit run console/app.py`` (the package is installed: ``pip install -e .``)."""

from __future__ import annotations

from console.shell import main

main()
