"""Compare page: every finished run (filterable, sortable, exportable as CSV; each linked to its run
and registered version in the MLflow UI when the console knows its URL) and charts of the chosen
metric on the human-labelled parts beside validation, test and out of domain, the cost of each
gain, and the test-split curves and confusion matrices."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from console import charts
from console.first_run import first_run_screen
from console.settings import ConsoleSettings
from console.store import Store, experiment_ids
from core.config import METRICS, ServingConfig
from core.tracking.comparison import describe_budget
from core.tracking.diagnostics import confusion, curves, load_test_predictions
from core.tracking.run_catalog import experiment_names, runs_table

_COST_COLUMNS = (
    "budget",
    "serving_p50_ms",
    "serving_p99_ms",
    "serving_tweets_per_s",
    "serving_rss_mb",
    "train_time_s",
    "inference_s_per_1000",
    "model_size_mb",
)
_MAX_DEFAULT_CURVES = 3


@st.cache_data(show_spinner=False, max_entries=64)
def test_predictions(uri: str, run_id: str) -> pd.DataFrame | None:
    """A run's logged test predictions (artifacts never change: cached per store and run)."""
    return load_test_predictions(run_id)


def render(store: Store) -> None:
    """The Compare page."""
    st.header("Compare")
    experiments = experiment_names()
    default = [store.tracking.experiment] if store.tracking.experiment in experiments else experiments[:1]
    chosen = st.multiselect("Experiments", experiments, default=default, key="experiments")
    table = runs_table(store.tracking, chosen or default)
    if table.empty:
        first_run_screen("finished training run")
        return
    metric = st.selectbox(
        "Metric",
        METRICS,
        index=METRICS.index("roc_auc"),
        key="metric",
        help="Human-labelled select ranks the runs (the champion's yardstick); human report, validation, "
        "test and out of domain are shown beside it.",
    )
    table = filtered(table)
    if table.empty:
        st.warning("No run matches these filters.")
        return
    table = table.assign(label=run_labels(table))
    rank = next((c for c in (f"human_select_{metric}", f"val_{metric}") if c in table), None)
    if rank is not None:
        table = table.sort_values(rank, ascending=False, na_position="last").reset_index(drop=True)
    shown = ordered(table, metric)
    st.caption(describe_budget(ServingConfig()) + " `budget` says `ok` or why a version may not be champion.")
    linked, links = with_mlflow_links(shown, table, store, ConsoleSettings.from_env())
    champion = st.column_config.CheckboxColumn("champion", help="the registry's champion")
    st.container(key="runs_table").dataframe(
        linked, hide_index=True, width="stretch", column_config={"champion": champion, **links}
    )
    st.download_button(
        "Download CSV", shown.to_csv(index=False), file_name="comparison.csv", mime="text/csv", key="download"
    )
    left, right = st.columns(2)
    left.plotly_chart(charts.metric_per_model(table, metric), key="metric_per_model")
    right.plotly_chart(charts.cost_vs_metric(table, metric), key="cost_vs_metric")
    curves_section(store, table)


def filtered(table: pd.DataFrame) -> pd.DataFrame:
    """The rows kept by the family, preprocessing and date filters."""
    columns = st.columns(3)
    families = sorted(table["family"].dropna().unique())
    variants = sorted(table["preprocessing"].dropna().unique())
    chosen_families = columns[0].multiselect("Families", families, default=families, key="families")
    chosen_variants = columns[1].multiselect("Preprocessing", variants, default=variants, key="variants")
    first, last = table["started"].min().date(), table["started"].max().date()
    dates = columns[2].date_input("Started between", (first, last), key="dates")
    keep = table["family"].isin(chosen_families) & table["preprocessing"].isin(chosen_variants)
    if isinstance(dates, (tuple, list)) and len(dates) == 2:
        start, end = (pd.Timestamp(d) for d in dates)
        keep &= table["started"].between(start, end + dt.timedelta(days=1), inclusive="left")
    return table[keep].reset_index(drop=True)


def run_labels(table: pd.DataFrame) -> list[str]:
    """A short unique name per run: ``family-variant v3`` (or the run id's start)."""
    return [
        f"{row.run} v{row.version}" if isinstance(row.version, str) and row.version else f"{row.run} {row.run_id[:6]}"
        for row in table.itertuples()
    ]


def ordered(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The table's columns in reading order (chosen metric first), sorted as asked."""
    lead = ["champion", "label", "experiment", "family", "preprocessing", "profile", "started"]
    parts = [f"{p}_{metric}" for p in charts.PARTS]
    sets = sorted(c for c in table if c.startswith("human_report_") and c.endswith(f"_{metric}") and c not in parts)
    chosen = [c for c in [*parts, *sets] if c in table]
    costs = [c for c in _COST_COLUMNS if c in table]
    others = [c for c in table.columns if c not in {*lead, *chosen, *costs, "run", "run_id", "version"}]
    shown = table[[*lead, *chosen, *costs, *sorted(others), "run_id"]]
    sortable = [*chosen, *costs, "started", *sorted(others)]
    left, right = st.columns([3, 1])
    by = left.selectbox("Sort by", sortable, key="sort_by")
    ascending = right.toggle("Ascending", value=by in _COST_COLUMNS, key=f"ascending-{by}")
    return shown.sort_values(by, ascending=ascending, na_position="last").reset_index(drop=True)


def with_mlflow_links(
    shown: pd.DataFrame, table: pd.DataFrame, store: Store, settings: ConsoleSettings
) -> tuple[pd.DataFrame, dict[str, st.column_config.LinkColumn]]:
    """The shown table with two link columns after ``label`` when an MLflow UI shows the store,
    ``mlflow_run`` (the run's page) and ``mlflow_version`` (its registered version's, if any), and
    their column configs; unchanged (no configs) without one. The CSV keeps the plain table."""
    links = settings.mlflow_links(store.uri, store.is_default)
    if links is None:
        return shown, {}
    ids = experiment_ids()
    version_of = dict(zip(table["run_id"], table["version"], strict=True))
    name = store.tracking.registered_model
    linked = shown.copy()
    at = linked.columns.get_loc("label") + 1
    versions = linked["run_id"].map(version_of)
    linked.insert(
        at, "mlflow_version", [links.version(name, v) if isinstance(v, str) and v else None for v in versions]
    )
    linked.insert(
        at, "mlflow_run", [links.run(ids[e], r) for e, r in zip(linked["experiment"], linked["run_id"], strict=True)]
    )
    columns = {
        "mlflow_run": st.column_config.LinkColumn(
            "MLflow run", help="the run in the MLflow UI", display_text=r"/runs/([0-9a-f]{8})"
        ),
        "mlflow_version": st.column_config.LinkColumn(
            "MLflow version", help="the registered version in the MLflow UI", display_text=r"/versions/(\d+)$"
        ),
    }
    return linked, columns


def curves_section(store: Store, table: pd.DataFrame) -> None:
    """ROC and precision-recall curves and confusion matrices of the selected runs."""
    st.subheader("Test split: curves and confusion matrices")
    labels = list(table["label"])  # best on validation first
    selected = st.multiselect("Runs", labels, default=labels[:_MAX_DEFAULT_CURVES], key="curve_runs")
    predictions = {}
    for label in selected:
        run_id = table.loc[table["label"] == label, "run_id"].iloc[0]
        frame = test_predictions(store.uri, run_id)
        if frame is None:
            st.caption(f"{label}: no test predictions logged (a run trained before they were).")
        else:
            predictions[label] = frame
    if not predictions:
        return
    points = {label: curves(frame) for label, frame in predictions.items()}
    left, right = st.columns(2)
    left.plotly_chart(charts.roc_curves(points), key="roc")
    right.plotly_chart(charts.pr_curves(points), key="pr")
    columns = st.columns(min(3, len(predictions)))
    for i, (label, frame) in enumerate(predictions.items()):
        columns[i % len(columns)].plotly_chart(
            charts.confusion_heatmap(confusion(frame), label), key=f"confusion-{label}"
        )
