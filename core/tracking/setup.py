"""MLflow set-up and run logging: params, metrics, tags, the pyfunc model and its signature.

The embedded default is a SQLite store and a local artifact folder under ``.mlflow/`` in the
project; ``$MLFLOW_TRACKING_URI`` (or ``tracking.tracking_uri``) points at a server instead.
Nothing happens on import: call :func:`configure_tracking` first.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from core.config import PROJECT_ROOT, TrackingConfig
from core.config.paths import artifact_root
from core.errors import CoreError
from core.tracking.pyfunc_model import ARTIFACT_KEY, SIGNATURE, pip_requirements

logger = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"
_ENTRY_FILE = Path(__file__).with_name("pyfunc_entry.py")
_CORE_PACKAGE = Path(__file__).resolve().parents[1]
"""Logged with every model (``code_paths``): the model loads where ``core`` is not installed."""


def resolve_tracking_uri(config: TrackingConfig) -> str:
    """Config URI, then ``$MLFLOW_TRACKING_URI``, then the embedded SQLite store."""
    return config.resolved_uri()


def configure_tracking(config: TrackingConfig) -> str:
    """Point MLflow at the store (creating the embedded one if needed) and the experiment.

    Returns:
        The tracking URI in use.
    """
    uri = resolve_tracking_uri(config)
    if uri.startswith("sqlite:///") and not config.tracking_uri and not os.environ.get("MLFLOW_TRACKING_URI"):
        config.store_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    _set_uri_keeping_environment(uri)
    client = MlflowClient()
    try:
        if client.get_experiment_by_name(config.experiment) is None:
            _create_experiment_once(client, config.experiment, artifact_root(uri))
    except mlflow.exceptions.MlflowException as exc:
        raise CoreError(f"Cannot use the MLflow tracking store at {uri}: {exc.message}") from None
    mlflow.set_experiment(config.experiment)
    return uri


def _create_experiment_once(client: MlflowClient, name: str, artifact_location: str | None) -> None:
    """Create the experiment, tolerating another process (an API, a training) creating it first."""
    try:
        client.create_experiment(name, artifact_location=artifact_location)
    except mlflow.exceptions.MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def _set_uri_keeping_environment(uri: str) -> None:
    """Set MLflow's URIs without letting MLflow export ``MLFLOW_TRACKING_URI`` to the environment.

    MLflow copies the URI into the environment; a later configuration in the same process
    (another store, a test) would then take it for the user's choice.
    """
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


def git_commit() -> str:
    """The project's current git commit, or ``unknown`` outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def log_classifier(folder: Path, requirements: tuple[str, ...], input_example: list[str]) -> str:
    """Log a saved classifier folder as a pyfunc model (with signature) in the active run.

    The ``core`` package travels with the model (MLflow's ``code_paths``, prepended to ``sys.path``
    at load time; a process that imported ``core`` already keeps its own), so ``mlflow.pyfunc.load_model``,
    ``mlflow models serve`` and ``spark_udf`` work from any directory, in any environment that
    installs the model's pip requirements.

    Returns:
        The logged model's URI.
    """
    info = mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=str(_ENTRY_FILE),
        artifacts={ARTIFACT_KEY: str(folder)},
        signature=SIGNATURE,
        input_example=input_example or None,
        pip_requirements=pip_requirements(requirements),
        code_paths=[str(_CORE_PACKAGE)],
        # Declared so that load_model(..., model_config={"runtime": ...}) may override it.
        model_config={"runtime": "auto"},
    )
    return info.model_uri
