"""The console's frame: one URL per page (``st.navigation``), the login and the tracking store in the
sidebar, then the page of the URL asked.

Each page is a file of :mod:`console.routes` (``/`` is Train, then ``/compare``, ``/model`` and
``/monitoring``): it draws its view of :mod:`console.views` on the store this frame connected,
through :func:`run_page`. Choosing another store than the default needs the login (:mod:`console.auth`):
an MLflow client sends the stack's MLflow credentials to whatever server it is pointed at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from console import auth
from console.store import Store, connect, default_uri
from core.errors import CoreError

_STORE_KEY = "_console_store"


@dataclass(frozen=True)
class PageSpec:
    """One page of the console: its title, its file under ``console/`` and its URL path."""

    title: str
    script: str
    url_path: str
    icon: str


PAGES = (
    PageSpec("Train", "routes/train.py", "train", ":material/model_training:"),
    PageSpec("Compare", "routes/compare.py", "compare", ":material/leaderboard:"),
    PageSpec("Model", "routes/model.py", "model", ":material/deployed_code:"),
    PageSpec("Monitoring", "routes/monitoring.py", "monitoring", ":material/monitoring:"),
)
"""In menu order; the first is the default page, served at ``/``."""


def main() -> None:
    """Render one pass of the console: navigation, sidebar, then the current page."""
    st.set_page_config(page_title="Air Paradise console", page_icon="✈️", layout="wide")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    page = st.navigation(
        [
            st.Page(spec.script, title=spec.title, url_path=spec.url_path, icon=spec.icon, default=i == 0)
            for i, spec in enumerate(PAGES)
        ]
    )
    with st.sidebar:
        st.title("✈️ Air Paradise")
        st.caption("Tweet-sentiment experiment console")
        writable = auth.login_panel()
        uri = st.text_input(
            "MLflow tracking URI",
            value=default_uri(),
            key="tracking_uri",
            disabled=not writable,
            help="The embedded SQLite store by default; any MLflow server URI works (http://host:5000)."
            + ("" if writable else " Log in to choose another store."),
        )
    if not writable:  # whatever the browser sent: the default store until logged in
        uri = default_uri()
    try:
        store = connect(uri)
    except CoreError as exc:
        st.error(f"{exc} Check the tracking URI in the sidebar.")
        return
    st.sidebar.caption(f"Store: `{store.uri}`")
    st.session_state[_STORE_KEY] = store
    page.run()


def run_page(render: Callable[[Store], None]) -> None:
    """Draw one page's view on the store :func:`main` connected in this run (a page file's one call);
    an error a user can cause shows as one message."""
    try:
        render(st.session_state[_STORE_KEY])
    except CoreError as exc:
        st.error(str(exc))
