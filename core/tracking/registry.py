"""The MLflow model registry: register versions, promote the champion, resolve aliases."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import TrackingConfig
from core.errors import ModelNotFoundError

logger = logging.getLogger(__name__)


@dataclass
class VersionInfo:
    """A registered model version with the score it was selected on."""

    name: str
    version: str
    run_id: str
    family: str
    preprocessing: str
    score: float


def register(model_uri: str, name: str, tags: dict[str, str]) -> str:
    """Register a logged model as a new version of ``name``; returns the version number."""
    version = mlflow.register_model(model_uri, name, tags=tags)
    return str(version.version)


def scored_versions(config: TrackingConfig, metric: str) -> list[VersionInfo]:
    """Every version of the registered model with its run's logged ``metric`` (e.g.
    ``human_select_roc_auc``); versions whose run did not log it are left out."""
    client = MlflowClient()
    try:
        versions = client.search_model_versions(f"name='{config.registered_model}'")
    except MlflowException:
        return []
    out = []
    for mv in versions:
        try:
            run = client.get_run(mv.run_id)
        except MlflowException:
            continue
        score = run.data.metrics.get(metric)
        if score is None or math.isnan(score):
            continue
        out.append(
            VersionInfo(
                mv.name,
                str(mv.version),
                mv.run_id,
                mv.tags.get("family", run.data.params.get("family", "?")),
                mv.tags.get("preprocessing", run.data.params.get("preprocessing", "?")),
                float(score),
            )
        )
    return out


def set_alias(config: TrackingConfig, version: str, alias: str | None = None) -> None:
    """Point ``alias`` (default: the champion alias) at ``version``.

    Raises:
        ModelNotFoundError: the version does not exist.
    """
    client = MlflowClient()
    try:
        client.get_model_version(config.registered_model, str(version))
    except MlflowException:
        raise ModelNotFoundError(f"Model '{config.registered_model}' has no version {version}.") from None
    client.set_registered_model_alias(config.registered_model, alias or config.champion_alias, str(version))


def promote_best(config: TrackingConfig, metric: str) -> VersionInfo | None:
    """Give the champion alias to the version with the best logged ``metric`` (a decision part's:
    ``human_select_*`` or ``val_*``, never test nor human ``report``).

    Returns:
        The promoted version, or ``None`` when nothing is registered.
    """
    versions = scored_versions(config, metric)
    if not versions:
        return None
    # On a tie the older version wins: a retrained twin, or an ensemble whose weight sits on one
    # member, scores the same at more cost.
    best = max(versions, key=lambda v: (v.score, -int(v.version)))
    set_alias(config, best.version)
    logger.info(
        "Champion: %s v%s (%s, %s) %s=%.4f",
        best.name,
        best.version,
        best.family,
        best.preprocessing,
        metric,
        best.score,
    )
    return best


def alias_version(config: TrackingConfig, alias: str | None = None) -> str | None:
    """The version an alias points at, or ``None`` when unset."""
    try:
        mv = MlflowClient().get_model_version_by_alias(config.registered_model, alias or config.champion_alias)
    except MlflowException:
        return None
    return str(mv.version)


def model_uri(config: TrackingConfig, alias: str | None = None, version: str | None = None) -> str:
    """``models:/<name>@<alias>`` or ``models:/<name>/<version>``."""
    if version:
        return f"models:/{config.registered_model}/{version}"
    return f"models:/{config.registered_model}@{alias or config.champion_alias}"
