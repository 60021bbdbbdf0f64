"""The champion's run and the settings it was trained with, read back from MLflow.

Retraining and drift monitoring rebuild the champion's exact split from these (the same tweets in
each part), and an ensemble retrain takes the champion's ensemble settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.config import PipelineConfig, apply_overrides
from core.errors import ModelNotFoundError
from core.tracking.setup import configure_tracking


@dataclass(frozen=True)
class ChampionRun:
    """The champion version and the parameters of the run that trained it."""

    version: str
    run_id: str
    family: str
    preprocessing: str
    params: dict[str, str]


def champion_run(config: PipelineConfig) -> ChampionRun:
    """The champion's version, family, preprocessing and run parameters.

    Raises:
        ModelNotFoundError: no champion is registered.
    """
    configure_tracking(config.tracking)
    client = MlflowClient()
    tracking = config.tracking
    try:
        mv = client.get_model_version_by_alias(tracking.registered_model, tracking.champion_alias)
        run = client.get_run(mv.run_id)
    except MlflowException:
        raise ModelNotFoundError(
            f"No '{tracking.champion_alias}' version of '{tracking.registered_model}' yet: "
            "train one first (python -m core train --profile quick)."
        ) from None
    params = run.data.params
    return ChampionRun(
        str(mv.version),
        mv.run_id,
        mv.tags.get("family", params.get("family", "")),
        mv.tags.get("preprocessing", params.get("preprocessing", "")),
        dict(params),
    )


# What a retrain takes from the champion's run rather than from the caller's config: the settings
# that decide which tweets are in each part (so challenger and champion are judged on the same
# ones), and those of the ensemble's weight search.
SPLIT_KEYS = (
    "data.path",
    "data.max_rows",
    "data.ood_max_rows",
    "data.twitter_samples_train",
    "split.strategy",
    "split.seed",
    "split.val_fraction",
    "split.test_fraction",
)
ENSEMBLE_KEYS = (
    "ensemble.ood_weight",
    "ensemble.ood_selection_fraction",
    "ensemble.n_candidates",
    "ensemble.min_weight",
)


def with_logged(config: PipelineConfig, params: dict[str, str], keys: tuple[str, ...]) -> PipelineConfig:
    """``config`` with each of ``keys`` set to its value in a run's ``params`` (a key the run did not
    log keeps the config's value)."""
    return apply_overrides(config, {key: params[key] for key in keys if key in params})


def config_like_champion(config: PipelineConfig, champion: ChampionRun | None = None) -> PipelineConfig:
    """``config`` with the champion run's data and split settings, so the split is the same tweets.

    Raises:
        ModelNotFoundError: no champion is registered.
    """
    return with_logged(config, (champion or champion_run(config)).params, SPLIT_KEYS)
