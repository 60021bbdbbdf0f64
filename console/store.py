"""The tracking store the console works on, chosen in the sidebar (default: the CLI's)."""

from __future__ import annotations

from dataclasses import dataclass

from console.jobs import JobQueue, jobs_folder
from core.config import TrackingConfig
from core.monitoring.settings import MonitoringConfig
from core.tracking.setup import configure_tracking, resolve_tracking_uri


@dataclass
class Store:
    """An MLflow store (tracking + registry) and the training job queue beside it."""

    uri: str
    tracking: TrackingConfig
    jobs: JobQueue


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
