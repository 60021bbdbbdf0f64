"""The MLflow model registry: register versions, promote the champion, resolve aliases."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import ServingConfig, TrackingConfig
from core.errors import ModelNotFoundError, NotServableError

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
    metrics: dict[str, float] = field(default_factory=dict, repr=False)
    """Every metric of the version's run (serving cost included)."""
    tags: dict[str, str] = field(default_factory=dict, repr=False)
    """The version's tags (``api_image_servable``, ``serving_requirements``, ...)."""


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
                dict(run.data.metrics),
                dict(mv.tags),
            )
        )
    return out


BUDGET_LIMITS = (
    ("serving_p50_ms", "max_p50_ms", "p50 {value:.1f} ms > {limit:g} ms"),
    ("serving_p99_ms", "max_p99_ms", "p99 {value:.1f} ms > {limit:g} ms"),
    ("serving_rss_mb", "max_rss_mb", "memory {value:.0f} MB > {limit:g} MB"),
)
"""(metric, ``ServingConfig`` field, message) of each upper limit of the serving budget."""


def budget_breaches(version: VersionInfo, serving: ServingConfig) -> list[str]:
    """Why ``version`` may not be champion under ``serving`` (empty: it may).

    The API image must install what the version needs; each measured figure must be within its limit.
    A figure the version's run did not log (``serving.measure`` off, or a version older than the
    budget) is not held against it.
    """
    reasons = []
    if version.tags.get("api_image_servable") == "false":
        reasons.append(f"the API image lacks {version.tags.get('api_image_missing') or '?'}")
    for metric, limit_name, message in BUDGET_LIMITS:
        value, limit = version.metrics.get(metric), getattr(serving, limit_name)
        if value is not None and limit is not None and value > limit:
            reasons.append(message.format(value=value, limit=limit))
    throughput = version.metrics.get("serving_tweets_per_s")
    if throughput is not None and serving.min_tweets_per_s is not None and throughput < serving.min_tweets_per_s:
        reasons.append(f"{throughput:.0f} tweets/s < {serving.min_tweets_per_s:g}")
    return reasons


def set_alias(config: TrackingConfig, version: str, alias: str | None = None) -> None:
    """Point ``alias`` (default: the champion alias) at ``version``.

    Raises:
        ModelNotFoundError: the version does not exist.
        NotServableError: the champion alias asked for a version the API image cannot load.
    """
    client = MlflowClient()
    try:
        mv = client.get_model_version(config.registered_model, str(version))
    except MlflowException:
        raise ModelNotFoundError(f"Model '{config.registered_model}' has no version {version}.") from None
    alias = alias or config.champion_alias
    if alias == config.champion_alias and mv.tags.get("api_image_servable") == "false":
        raise NotServableError(
            f"Version {version} ({mv.tags.get('family', '?')}) needs {mv.tags.get('api_image_missing')}, which the "
            "API image (requirements-api.txt) does not install: the deployed API could not load it. Promote a "
            "version the image serves (python -m core compare lists them), or add those packages to "
            "requirements-api.txt and retrain."
        )
    client.set_registered_model_alias(config.registered_model, alias, str(version))


def promote_best(config: TrackingConfig, metric: str, serving: ServingConfig | None = None) -> VersionInfo | None:
    """Give the champion alias to the version with the best logged ``metric`` (a decision part's:
    ``human_select_*`` or ``val_*``, never test nor human ``report``) among those within the serving
    budget (:func:`budget_breaches`; ``serving=None``: the default budget).

    Returns:
        The promoted version, or ``None`` when no version is registered or none is within budget
        (the champion is then left where it was).
    """
    serving = serving or ServingConfig()
    scored = scored_versions(config, metric)
    versions = []
    for version in scored:
        reasons = budget_breaches(version, serving)
        if reasons:
            logger.info(
                "v%s (%s) is out of the serving budget: %s", version.version, version.family, "; ".join(reasons)
            )
        else:
            versions.append(version)
    if not versions:
        if scored:
            logger.warning("No version is within the serving budget: the champion is left unchanged.")
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
