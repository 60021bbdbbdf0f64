"""What the tracking store holds, read back for browsing: every finished run with all its
metrics, and the registered versions with their details.

:mod:`core.tracking.comparison` prints the fixed comparison table of the CLI; this module gives the
console the whole picture (any experiment, every metric, dates) to filter and chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import ServingConfig, TrackingConfig
from core.errors import CoreError, ModelNotFoundError
from core.tracking.comparison import BUDGET_INPUTS, SERVING_TAGS, budget_column
from core.tracking.registry import VersionInfo, alias_version, budget_breaches

# Leading columns of :func:`runs_table`; every metric follows as its own column.
RUN_COLUMNS = ("run_id", "experiment", "run", "family", "preprocessing", "profile", "version", "champion", "started")


def experiment_names() -> list[str]:
    """Names of the store's active experiments, sorted.

    Raises:
        CoreError: the store cannot be read.
    """
    try:
        return sorted(e.name for e in mlflow.search_experiments())
    except MlflowException as exc:
        raise CoreError(f"Cannot read the MLflow store: {exc.message}") from None


def runs_table(
    config: TrackingConfig, experiments: list[str] | None = None, serving: ServingConfig | None = None
) -> pd.DataFrame:
    """One row per finished model run (tuning trials left out), newest first.

    Args:
        config: the store's registry names (for the champion mark).
        experiments: experiment names (default: the configured one).
        serving: the serving budget of the ``budget`` column (default: the default budget).

    Returns:
        :data:`RUN_COLUMNS`, then one column per metric, the serving tags and ``budget`` (``ok``
        or why the version may not be champion); empty (:data:`RUN_COLUMNS` only) when there is no
        finished run.
    """
    names = experiments or [config.experiment]
    try:
        runs = mlflow.search_runs(experiment_names=names, filter_string="attributes.status = 'FINISHED'")
        ids = {e.experiment_id: e.name for e in mlflow.search_experiments()}
    except MlflowException as exc:
        raise CoreError(f"Cannot read the MLflow store: {exc.message}") from None
    if "tags.tuning_trial" in runs:
        runs = runs[runs["tags.tuning_trial"].isna()]
    if runs.empty:
        return pd.DataFrame(columns=list(RUN_COLUMNS))

    def column(name: str) -> pd.Series:
        return runs[name] if name in runs else pd.Series([None] * len(runs), index=runs.index)

    champion = alias_version(config)
    table = pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "experiment": runs["experiment_id"].map(ids),
            "run": column("tags.mlflow.runName"),
            "family": column("params.family"),
            "preprocessing": column("params.preprocessing"),
            "profile": column("tags.profile"),
            "version": column("tags.registered_version"),
            "started": pd.to_datetime(runs["start_time"]).dt.tz_localize(None),
        }
    )
    table["champion"] = table["version"].astype(str).eq(str(champion)) & table["version"].notna()
    metrics = sorted(c for c in runs.columns if c.startswith("metrics."))
    for name in metrics:
        table[name.removeprefix("metrics.")] = runs[name].astype(float)
    for tag in SERVING_TAGS:
        table[tag] = column(f"tags.{tag}")
    inputs = table.reindex(columns=list(dict.fromkeys([*table.columns, *BUDGET_INPUTS])))
    table["budget"] = budget_column(inputs, serving or ServingConfig())
    table = table[[*RUN_COLUMNS, *[m.removeprefix("metrics.") for m in metrics], *SERVING_TAGS, "budget"]]
    return table.sort_values("started", ascending=False).reset_index(drop=True)


@dataclass
class VersionDetails:
    """A registered model version as the console shows it."""

    name: str
    version: str
    run_id: str
    aliases: list[str]
    family: str
    preprocessing: str
    created: pd.Timestamp
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    signature_inputs: str = ""
    signature_outputs: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    """The version's tags (what serving it needs: ``serving_requirements``, ``api_image_servable``...)."""

    def budget(self, serving: ServingConfig | None = None) -> list[str]:
        """Why this version may not be champion under the serving budget (empty: it may)."""
        info = VersionInfo(
            self.name, self.version, self.run_id, self.family, self.preprocessing, 0.0, self.metrics, self.tags
        )
        return budget_breaches(info, serving or ServingConfig())

    @property
    def threshold(self) -> float | None:
        """The decision threshold on P(negative) chosen on validation."""
        return self.metrics.get("threshold")

    @property
    def size_mb(self) -> float | None:
        """The saved classifier's size in MB."""
        return self.metrics.get("model_size_mb")


def registered_versions(config: TrackingConfig) -> pd.DataFrame:
    """Every version of the registered model, newest first: version, family, preprocessing,
    aliases, the run's validation selection score and ``run_id`` (empty when none)."""
    client = MlflowClient()
    columns = ["version", "family", "preprocessing", "aliases", "val_score", "created", "run_id"]
    try:
        versions = client.search_model_versions(f"name='{config.registered_model}'")
    except MlflowException:
        return pd.DataFrame(columns=columns)
    rows = []
    for mv in versions:
        try:
            run = client.get_run(mv.run_id)
            score = run.data.metrics.get("selection_score", math.nan)
        except MlflowException:
            score = math.nan
        rows.append(
            {
                "version": str(mv.version),
                "family": mv.tags.get("family", "?"),
                "preprocessing": mv.tags.get("preprocessing", "?"),
                "aliases": ", ".join(mv.aliases),
                "val_score": score,
                "created": pd.to_datetime(mv.creation_timestamp, unit="ms"),
                "run_id": mv.run_id,
            }
        )
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("version", key=lambda v: v.astype(int), ascending=False).reset_index(drop=True)


def version_details(config: TrackingConfig, version: str) -> VersionDetails:
    """Params, metrics, signature and aliases of one registered version.

    Raises:
        ModelNotFoundError: no such version.
    """
    client = MlflowClient()
    try:
        mv = client.get_model_version(config.registered_model, str(version))
        run = client.get_run(mv.run_id)
    except MlflowException:
        raise ModelNotFoundError(f"Model '{config.registered_model}' has no version {version}.") from None
    inputs = outputs = ""
    try:
        signature = mlflow.models.get_model_info(f"models:/{config.registered_model}/{version}").signature
        if signature is not None:
            inputs, outputs = str(signature.inputs), str(signature.outputs)
    except (MlflowException, OSError):
        pass
    return VersionDetails(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        aliases=list(mv.aliases),
        family=mv.tags.get("family", run.data.params.get("family", "?")),
        preprocessing=mv.tags.get("preprocessing", run.data.params.get("preprocessing", "?")),
        created=pd.to_datetime(mv.creation_timestamp, unit="ms"),
        params=dict(sorted(run.data.params.items())),
        metrics=dict(sorted(run.data.metrics.items())),
        signature_inputs=inputs,
        signature_outputs=outputs,
        tags=dict(mv.tags),
    )
