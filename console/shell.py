"""The console's frame: page choice and tracking store in the sidebar, then the chosen page."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from console.store import Store, connect, default_uri
from console.views import compare, model, monitoring, train
from core.errors import CoreError

PAGES: dict[str, Callable[[Store], None]] = {
    "Train": train.render,
    "Compare": compare.render,
    "Model": model.render,
    "Monitoring": monitoring.render,
}


def main() -> None:
    """Render one pass of the console."""
    st.set_page_config(page_title="Air Paradise console", page_icon="✈️", layout="wide")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    with st.sidebar:
        st.title("✈️ Air Paradise")
        st.caption("Tweet-sentiment experiment console")
        page = st.radio("Page", list(PAGES), key="page")
        uri = st.text_input(
            "MLflow tracking URI",
            value=default_uri(),
            key="tracking_uri",
            help="The embedded SQLite store by default; any MLflow server URI works (http://host:5000).",
        )
    try:
        store = connect(uri)
    except CoreError as exc:
        st.error(f"{exc} Check the tracking URI in the sidebar.")
        return
    st.sidebar.caption(f"Store: `{store.uri}`")
    try:
        PAGES[page](store)
    except CoreError as exc:
        st.error(str(exc))
