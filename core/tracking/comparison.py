"""The comparison table of every run, read back from MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from core.config import ServingConfig, TrackingConfig
from core.tracking.registry import VersionInfo, alias_version, budget_breaches

# (MLflow column, table column)
_COLUMNS = (
    ("tags.mlflow.runName", "run"),
    ("params.family", "family"),
    ("params.preprocessing", "preprocessing"),
    ("tags.registered_version", "version"),
    ("metrics.human_select_{metric}", "human_select_{metric}"),
    ("metrics.human_report_{metric}", "human_report_{metric}"),
    ("metrics.human_select_roc_auc", "human_select_roc_auc"),
    ("metrics.human_report_roc_auc", "human_report_roc_auc"),
    ("metrics.human_report_tweeteval_roc_auc", "human_report_tweeteval_roc_auc"),
    ("metrics.human_report_sts_gold_roc_auc", "human_report_sts_gold_roc_auc"),
    ("metrics.human_report_ece", "human_report_ece"),
    ("metrics.val_{metric}", "val_{metric}"),
    ("metrics.test_{metric}", "test_{metric}"),
    ("metrics.val_roc_auc", "val_roc_auc"),
    ("metrics.test_roc_auc", "test_roc_auc"),
    ("metrics.test_accuracy", "test_accuracy"),
    ("metrics.ood_roc_auc", "ood_roc_auc"),
    ("metrics.ood_accuracy", "ood_accuracy"),
    ("metrics.train_time_s", "train_time_s"),
    ("metrics.inference_s_per_1000", "inference_s_per_1000"),
    ("metrics.model_size_mb", "model_size_mb"),
    ("metrics.serving_p50_ms", "serving_p50_ms"),
    ("metrics.serving_p99_ms", "serving_p99_ms"),
    ("metrics.serving_tweets_per_s", "serving_tweets_per_s"),
    ("metrics.serving_rss_mb", "serving_rss_mb"),
    ("tags.serving_runtime", "serving_runtime"),
    ("tags.api_image_servable", "api_image_servable"),
    ("tags.api_image_missing", "api_image_missing"),
    ("start_time", "started"),
)
SERVING_TAGS = ("serving_runtime", "api_image_servable", "api_image_missing")
"""Tags every registered run carries about what serving it needs (:mod:`core.serving.image`)."""
BUDGET_INPUTS = ("serving_p50_ms", "serving_p99_ms", "serving_rss_mb", "serving_tweets_per_s", *SERVING_TAGS)
"""The columns :func:`budget_column` reads."""


def describe_budget(serving: ServingConfig) -> str:
    """The serving budget in one line (what the ``budget`` column checks)."""
    limits = [
        f"{label} {sign} {value:g}{unit}"
        for label, sign, value, unit in (
            ("p50", "≤", serving.max_p50_ms, " ms"),
            ("p99", "≤", serving.max_p99_ms, " ms"),
            ("memory", "≤", serving.max_rss_mb, " MB"),
            ("throughput", "≥", serving.min_tweets_per_s, " tweets/s"),
        )
        if value is not None
    ]
    return (
        f"Serving budget (runtime {serving.runtime}): {', '.join(limits) or 'no limit'}; the API image "
        f"({serving.image_requirements.name}) must install what the model needs."
    )


def budget_column(table: pd.DataFrame, serving: ServingConfig) -> pd.Series:
    """``ok``, or why each run's version may not be champion (:func:`budget_breaches`)."""

    def verdict(row: pd.Series) -> str:
        metrics = {k: float(row[k]) for k in BUDGET_INPUTS[:4] if pd.notna(row[k])}
        tags = {k: str(row[k]) for k in ("api_image_servable", "api_image_missing") if pd.notna(row[k])}
        version = VersionInfo("", str(row["version"]), "", str(row["family"]), "", 0.0, metrics, tags)
        return "; ".join(budget_breaches(version, serving)) or "ok"

    return table.apply(verdict, axis=1) if len(table) else pd.Series(dtype=str)


def comparison_table(
    config: TrackingConfig, metric: str = "roc_auc", part: str = "human_select", serving: ServingConfig | None = None
) -> pd.DataFrame:
    """One row per finished run of the experiment, best ``metric`` on ``part`` first: the human-labelled
    ``select`` and ``report`` scores next to validation, test and out of domain, the serving cost
    and whether the version is within the serving budget (``budget``: ``ok`` or why not).

    Returns an empty frame (with the table's columns) when no run exists.
    """
    columns = list(dict.fromkeys((src.format(metric=metric), dst.format(metric=metric)) for src, dst in _COLUMNS))
    runs = mlflow.search_runs(experiment_names=[config.experiment], filter_string="attributes.status = 'FINISHED'")
    if "tags.tuning_trial" in runs:  # nested Optuna trials are not models of their own
        runs = runs[runs["tags.tuning_trial"].isna()]
    if runs.empty:
        return pd.DataFrame(columns=["champion", *[dst for _, dst in columns], "budget"])
    table = pd.DataFrame({dst: runs[src] if src in runs else None for src, dst in columns})
    champion = _champion_version(config)
    table.insert(0, "champion", table["version"].astype(str).eq(champion).map({True: "*", False: ""}))
    table["budget"] = budget_column(table, serving or ServingConfig())
    return table.sort_values(f"{part}_{metric}", ascending=False, na_position="last").reset_index(drop=True)


def _champion_version(config: TrackingConfig) -> str | None:
    return alias_version(config)


def write_table(table: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """Write the table as CSV and Markdown in ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / "comparison.csv", folder / "comparison.md"
    table.to_csv(csv_path, index=False)
    md_path.write_text(format_markdown(table) + "\n")
    return csv_path, md_path


def format_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, numbers rounded to 4 digits, times to 2."""
    shown = table.drop(columns=["started"], errors="ignore").copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            digits = 2 if column.endswith(("_s", "_s_per_1000", "_mb")) else 4
            shown[column] = shown[column].round(digits)
    return shown.to_markdown(index=False)
