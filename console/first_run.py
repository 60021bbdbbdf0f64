"""The screen shown where the store holds nothing to show yet."""

from __future__ import annotations

import streamlit as st


def first_run_screen(what: str) -> None:
    """Explain what to do when the store has no ``what`` yet (never an exception)."""
    st.info(
        f"No {what} in this store yet.\n\n"
        "- Open the **Train** page, pick the `tiny` profile and the `tfidf` family, and launch: "
        "a first run is ready in under a minute.\n"
        "- Or train from a terminal: `.venv/bin/python -m core train --profile quick`.\n"
        "- Or point the console at another store with the tracking URI in the sidebar.",
        icon="🛫",
    )
