"""The tracking store the console works on, chosen in the sidebar (default: the CLI's), and what the
console reads from it beside :mod:`core.tracking.run_catalog`: experiment ids (the MLflow UI's run
links need them) and a run's learning curve (its loss metrics, step by step)."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from console.jobs import JobQueue, jobs_folder
from core.config import TrackingConfig
from core.errors import CoreError
from core.models.base import LEARNING_CURVE_METRICS
from core.monitoring.settings import MonitoringConfig
from core.tracking.setup import configure_tracking, resolve_tracking_uri


@dataclass
class Store:
    """An MLflow store (tracking + registry) and the training job queue beside it."""

    uri: str
    tracking: TrackingConfig
    jobs: JobQueue

    @property
    def is_default(self) -> bool:
        """Whether this is the default store (``$MLFLOW_TRACKING_URI``, else the embedded one)."""
        return self.tracking.tracking_uri is None


def default_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else the embedded SQLite store, as the CLI resolves it."""
    return resolve_tracking_uri(TrackingConfig())


def connect(uri: str) -> Store:
    """Point MLflow at ``uri`` (creating the embedded default store when needed).

    Raises:
        CoreError: the store cannot be used.
    """
    uri = uri.strip() or default_uri()
    tracking = TrackingConfig(tracking_uri=None if uri == default_uri() else uri)
    configure_tracking(tracking)
    return Store(uri, tracking, JobQueue(jobs_folder(uri)))


def default_event_store_url() -> str:
    """The API's event store, as ``python -m core monitor`` finds it: ``$EVENT_STORE_URL``, else
    the SQLite file ``$API_FEEDBACK_DB``, else ``.data/feedback.db``."""
    return MonitoringConfig.from_env().resolved_store_url


def experiment_ids() -> dict[str, str]:
    """Experiment name -> id in the connected store.

    Raises:
        CoreError: the store cannot be read.
    """
    try:
        return {e.name: e.experiment_id for e in mlflow.search_experiments()}
    except MlflowException as exc:
        raise CoreError(f"Cannot read the MLflow store: {exc.message}") from None


def learning_curve(run_id: str) -> pd.DataFrame:
    """The run's learning curve: one row per logged point (``step``, ``metric`` of
    :data:`~core.models.base.LEARNING_CURVE_METRICS`, ``value``), by metric then step; empty for a run
    that logged none (a family fitted in one pass, or a run trained before the curves were logged).

    Raises:
        CoreError: the store cannot be read.
    """
    client = MlflowClient()
    try:
        histories = {key: client.get_metric_history(run_id, key) for key in LEARNING_CURVE_METRICS}
    except MlflowException as exc:
        raise CoreError(f"Cannot read the MLflow store: {exc.message}") from None
    rows = [(m.step, key, m.value) for key, history in histories.items() for m in history]
    curve = pd.DataFrame(rows, columns=["step", "metric", "value"])
    return curve.sort_values(["metric", "step"], kind="stable").reset_index(drop=True)


def experiment_of(run_id: str) -> str:
    """The id of the experiment a run belongs to.

    Raises:
        CoreError: no such run, or the store cannot be read.
    """
    try:
        return MlflowClient().get_run(run_id).info.experiment_id
    except MlflowException as exc:
        raise CoreError(f"Cannot read run {run_id} from the MLflow store: {exc.message}") from None
