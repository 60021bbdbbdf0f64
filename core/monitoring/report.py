"""The monitoring report: per day or week, volume, share negative, mean confidence, flagged-error
rate and drift (PSI of scores and text lengths against validation), with plotly figures.

Built from the event store's prediction events (:meth:`EventStore.predictions_frame`); the
console shows the same :class:`MonitoringReport` that ``python -m core monitor`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.config import PipelineConfig
from core.errors import CoreError
from core.monitoring.drift import MIN_COUNT, PSI_ALERT, PSI_WARNING, Reference, psi_level, reference_from_champion
from core.monitoring.event_store import EventStore

PERIODS = ("day", "week")
COLUMNS = (
    "period",
    "predictions",
    "share_negative",
    "mean_confidence",
    "feedback",
    "flagged_errors",
    "flagged_error_rate",
    "psi_score",
    "psi_length",
    "drift",
)
_LEVEL_ORDER = {"n/a": 0, "stable": 1, "warning": 2, "alert": 3}


def _period_keys(times: pd.Series, period: str) -> pd.Series:
    """``2026-11-25`` per day, ``2026-W48`` (ISO week) per week."""
    if period == "day":
        return times.dt.strftime("%Y-%m-%d")
    iso = times.dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)


def _confidence(frame: pd.DataFrame) -> pd.Series:
    """Confidence of the served label: P(negative) for a negative answer, 1 - P(negative) otherwise."""
    p = frame["probability_negative"]
    return p.where(frame["label"] == "negative", 1 - p)


def period_table(
    frame: pd.DataFrame, period: str = "day", reference: Reference | None = None, min_count: int = MIN_COUNT
) -> pd.DataFrame:
    """One row per day or ISO week of prediction events, oldest first.

    Args:
        frame: prediction events with ``created_at`` (UTC), ``label``, ``probability_negative``,
            ``text_length`` and ``correct_label`` (latest feedback, NaN without feedback).
        period: ``day`` or ``week``.
        reference: validation scores and lengths for PSI (``None``: no PSI columns values).
        min_count: periods with fewer predictions get no PSI.

    Returns:
        The columns of :data:`COLUMNS`; ``flagged_error_rate`` is flagged errors per prediction,
        ``drift`` the worse PSI level of the two.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    frame = frame.assign(
        _key=_period_keys(frame["created_at"], period),
        _negative=frame["label"] == "negative",
        _confidence=_confidence(frame),
        _feedback=frame["correct_label"].notna(),
        _flagged=frame["correct_label"].notna() & (frame["correct_label"] != frame["label"]),
    )
    rows = []
    for key, part in frame.groupby("_key", sort=True):
        n = len(part)
        score_psi = length_psi = float("nan")
        if reference is not None and n >= min_count:
            score_psi = reference.score_psi(part["probability_negative"].to_numpy())
            length_psi = reference.length_psi(part["text_length"].to_numpy())
        levels = [psi_level(score_psi), psi_level(length_psi)]
        rows.append(
            {
                "period": key,
                "predictions": n,
                "share_negative": float(part["_negative"].mean()),
                "mean_confidence": float(part["_confidence"].mean()),
                "feedback": int(part["_feedback"].sum()),
                "flagged_errors": int(part["_flagged"].sum()),
                "flagged_error_rate": float(part["_flagged"].sum() / n),
                "psi_score": score_psi,
                "psi_length": length_psi,
                "drift": max(levels, key=_LEVEL_ORDER.__getitem__),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def format_table(table: pd.DataFrame) -> str:
    """A fixed-width text table for the terminal."""
    if table.empty:
        return "(no prediction events)"
    shown = table.copy()
    for column in ("share_negative", "mean_confidence", "flagged_error_rate"):
        shown[column] = shown[column].map("{:.3f}".format)
    for column in ("psi_score", "psi_length"):
        shown[column] = shown[column].map(lambda v: "-" if np.isnan(v) else f"{v:.3f}")
    return shown.to_string(index=False)


def drift_warnings(table: pd.DataFrame, period: str) -> list[str]:
    """One sentence per period whose PSI reaches the warning level."""
    out = []
    for row in table.itertuples():
        for name, value in (("prediction scores", row.psi_score), ("text lengths", row.psi_length)):
            level = psi_level(value)
            if level in ("warning", "alert"):
                kind = "major shift" if level == "alert" else "moderate shift"
                out.append(f"{level.upper()}: {period} {row.period}: PSI of {name} {value:.3f} ({kind})")
    return out


def monitoring_figures(table: pd.DataFrame, title_period: str = "day") -> dict[str, go.Figure]:
    """Plotly figures of one period table: ``volume``, ``quality`` and ``drift``."""
    x = table["period"]
    volume = make_subplots(specs=[[{"secondary_y": True}]])
    volume.add_trace(go.Bar(x=x, y=table["predictions"], name="predictions"), secondary_y=False)
    share = go.Scatter(x=x, y=table["share_negative"], name="share negative", mode="lines+markers")
    volume.add_trace(share, secondary_y=True)
    volume.update_layout(title=f"Volume and share of negative tweets per {title_period}")
    volume.update_yaxes(title_text="predictions", secondary_y=False)
    volume.update_yaxes(title_text="share negative", range=[0, 1], secondary_y=True)

    quality = go.Figure(
        [
            go.Scatter(x=x, y=table["mean_confidence"], name="mean confidence", mode="lines+markers"),
            go.Scatter(x=x, y=table["flagged_error_rate"], name="flagged-error rate", mode="lines+markers"),
        ]
    )
    quality.update_layout(title=f"Confidence and flagged errors per {title_period}", yaxis_range=[0, 1])

    drift = go.Figure(
        [
            go.Scatter(x=x, y=table["psi_score"], name="PSI of prediction scores", mode="lines+markers"),
            go.Scatter(x=x, y=table["psi_length"], name="PSI of text lengths", mode="lines+markers"),
        ]
    )
    drift.add_hline(y=PSI_WARNING, line_dash="dot", line_color="orange", annotation_text="warning")
    drift.add_hline(y=PSI_ALERT, line_dash="dash", line_color="red", annotation_text="alert")
    drift.update_layout(title=f"Drift against the validation data per {title_period} (PSI)")
    return {"volume": volume, "quality": quality, "drift": drift}


@dataclass
class MonitoringReport:
    """Daily and weekly tables, their warnings and figures (what ``monitor`` prints and the console shows)."""

    daily: pd.DataFrame
    weekly: pd.DataFrame
    reference_source: str | None
    warnings: list[str] = field(default_factory=list)
    figures: dict[str, go.Figure] = field(default_factory=dict)
    events: int = 0
    reference_error: str | None = None
    """Why PSI was not computed (e.g. no champion yet), or ``None``."""


def build_report(frame: pd.DataFrame, reference: Reference | None, min_count: int = MIN_COUNT) -> MonitoringReport:
    """The report of a frame of prediction events (see :func:`period_table`)."""
    daily = period_table(frame, "day", reference, min_count)
    weekly = period_table(frame, "week", reference, min_count)
    figures = {f"daily_{k}": v for k, v in monitoring_figures(daily, "day").items()}
    figures.update({f"weekly_{k}": v for k, v in monitoring_figures(weekly, "week").items()})
    return MonitoringReport(
        daily,
        weekly,
        reference.source if reference is not None else None,
        drift_warnings(weekly, "week") + drift_warnings(daily, "day"),
        figures,
        events=len(frame),
    )


def report_from_store(
    store: EventStore, config: PipelineConfig | None = None, since: datetime | None = None
) -> MonitoringReport:
    """The report of the events in ``store`` (since ``since``), PSI against the champion of ``config``.

    Args:
        store: the API's event store.
        config: whose tracking store holds the champion (``None``: no PSI).
        since: only events from this time on.

    Raises:
        StoreUnavailableError: the store cannot be read.
    """
    frame = store.predictions_frame(since)
    reference, error = None, None
    if config is not None and not frame.empty:
        try:
            reference = reference_from_champion(config)
        except CoreError as exc:
            error = str(exc)
    report = build_report(frame, reference)
    report.reference_error = error
    return report
