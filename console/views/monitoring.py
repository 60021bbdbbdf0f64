"""Monitoring page: what the API served, per day and week (volume, share negative, confidence,
flagged errors) and its drift from the champion's validation data (PSI), from the API's event
store through :func:`core.monitoring.report.report_from_store`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import streamlit as st

from console.store import Store, default_event_store_url
from core.config import PipelineConfig
from core.monitoring.event_store import EventStore, now_utc
from core.monitoring.report import MonitoringReport, report_from_store

CACHE_S = 30


@st.cache_data(ttl=CACHE_S, show_spinner="Reading the prediction events…", max_entries=8)
def monitoring_report(event_url: str, tracking_uri: str, days: int | None) -> MonitoringReport:
    """The report of the last ``days`` days of events, drift measured against the store's champion."""
    config = PipelineConfig()
    config.tracking.tracking_uri = tracking_uri
    store = EventStore(event_url)
    try:
        return report_from_store(store, config, now_utc() - timedelta(days=days) if days else None)
    finally:
        store.dispose()


def render(store: Store) -> None:
    """The Monitoring page."""
    st.header("Monitoring")
    left, right = st.columns([3, 1])
    url = left.text_input(
        "Event store (the API's predictions and feedback)",
        default_event_store_url(),
        key="event_store",
        help="$EVENT_STORE_URL, else the SQLite file $API_FEEDBACK_DB, else .data/feedback.db",
    )
    days = right.number_input("Last days (empty: all)", 1, None, None, key="days")
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        st.info(
            "No prediction events yet: serve predictions through the API first "
            "(`python -m stack`, then the client app), or name another event store above.",
            icon="📭",
        )
        return
    report = monitoring_report(url, store.uri, int(days) if days else None)
    if report.events == 0:
        st.info("The event store holds no prediction in this period yet.", icon="📭")
        return
    st.caption(
        f"{report.events} prediction events · drift reference: "
        f"{report.reference_source or 'none (' + (report.reference_error or 'no champion') + ')'}"
    )
    for warning in report.warnings:
        st.warning(warning)
    if not report.warnings:
        st.success("No drift warning.")
    weekly, daily = st.tabs(["Per week", "Per day"])
    for tab, name, table in ((weekly, "weekly", report.weekly), (daily, "daily", report.daily)):
        with tab:
            st.dataframe(table, hide_index=True, width="stretch")
            for kind in ("volume", "quality", "drift"):
                figure = report.figures.get(f"{name}_{kind}")
                if figure is not None:
                    st.plotly_chart(figure, key=f"{name}_{kind}")
