"""Plotly figures built from what core returns (tables, curve points, confusion counts)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.tracking.diagnostics import Curves

PARTS = ("human_select", "human_report", "val", "test", "ood")
"""The evaluated parts, the human-labelled ones (the yardstick) first."""


def metric_per_model(table: pd.DataFrame, metric: str) -> go.Figure:
    """Grouped bars: the metric on the human-labelled select and report parts, validation, test and
    out of domain, for each run."""
    parts = [p for p in PARTS if f"{p}_{metric}" in table]
    long = table.melt(id_vars=["label"], value_vars=[f"{p}_{metric}" for p in parts], var_name="split")
    long["split"] = long["split"].str.removesuffix(f"_{metric}")
    figure = px.bar(long, x="label", y="value", color="split", barmode="group", title=f"{metric} per model")
    figure.update_layout(xaxis_title="run", yaxis_title=metric, legend_title="split")
    return figure


def cost_vs_metric(table: pd.DataFrame, metric: str) -> go.Figure:
    """Training time (log scale) against the metric on the human-labelled ``report`` part (else
    validation): the cost of each gain."""
    column = f"human_report_{metric}" if f"human_report_{metric}" in table else f"val_{metric}"
    figure = px.scatter(
        table,
        x="train_time_s",
        y=column,
        color="family",
        hover_name="label",
        hover_data={"inference_s_per_1000": ":.3f", "model_size_mb": ":.1f"},
        log_x=True,
        title=f"Training time vs {column.removesuffix('_' + metric).replace('_', ' ')} {metric}",
    )
    figure.update_traces(marker={"size": 12})
    figure.update_layout(xaxis_title="training time (s, log scale)", yaxis_title=column)
    return figure


def roc_curves(curves: dict[str, Curves]) -> go.Figure:
    """ROC curves of several runs on their test split, with the chance diagonal."""
    figure = go.Figure()
    for label, c in curves.items():
        figure.add_trace(go.Scatter(x=c.fpr, y=c.tpr, mode="lines", name=label))
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": "grey"}))
    figure.update_layout(
        title="ROC on the test split (positive class: negative tweets)",
        xaxis_title="false positive rate",
        yaxis_title="true positive rate (recall)",
    )
    return figure


def pr_curves(curves: dict[str, Curves]) -> go.Figure:
    """Precision-recall curves of several runs on their test split."""
    figure = go.Figure()
    for label, c in curves.items():
        figure.add_trace(go.Scatter(x=c.recall, y=c.precision, mode="lines", name=label))
    figure.update_layout(
        title="Precision-recall on the test split (negative tweets)",
        xaxis_title="recall",
        yaxis_title="precision",
    )
    return figure


def confusion_heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """A confusion matrix (rows: true class, columns: predicted) as an annotated heatmap."""
    figure = px.imshow(
        matrix.to_numpy(),
        x=[f"pred. {c}" for c in matrix.columns],
        y=[f"true {i}" for i in matrix.index],
        text_auto=True,
        color_continuous_scale="Blues",
        title=title,
    )
    figure.update_layout(coloraxis_showscale=False, height=320, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return figure


def learning_curve(curve: pd.DataFrame, title: str) -> go.Figure:
    """Training and validation loss against the step (epochs or optimizer steps), one line each."""
    figure = go.Figure()
    for metric, points in curve.groupby("metric", sort=True):
        figure.add_trace(go.Scatter(x=points["step"], y=points["value"], mode="lines+markers", name=metric))
    figure.update_layout(title=title, xaxis_title="step", yaxis_title="loss", legend_title="")
    return figure
