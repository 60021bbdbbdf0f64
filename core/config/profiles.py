"""Named profiles (``tiny``, ``quick``, ``full``): instances of :class:`PipelineConfig`, not copies."""

from __future__ import annotations

from core.config.families import ALL_FAMILIES, BertConfig, DistilledConfig, ModelsConfig, TfidfConfig
from core.config.pipeline import (
    CalibrationConfig,
    DataConfig,
    EnsembleConfig,
    PipelineConfig,
    ServingConfig,
    TuningConfig,
)
from core.errors import ConfigError


def _served_calibration() -> CalibrationConfig:
    """What the served profiles use: temperature-calibrated P(negative) and a threshold from costs,
    a missed negative tweet (an unanswered complaint) costing twice a false alarm (t = 1/3)."""
    return CalibrationConfig(method="temperature", threshold_rule="cost", cost_missed_negative=2.0)


def _quick() -> PipelineConfig:
    """Every family in minutes on 2 cores: 20,000 tweets plus 8,000 stripped ``twitter_samples``
    (outside the 2,000 scored out of domain), BERT (MiniLM) fine-tuned for one epoch, the ensemble
    over them all, then a MiniLM student distilled from the ensemble on 12,000 of the tweets it may
    train on (the training split and the unused Sentiment140 rows)."""
    return PipelineConfig(
        profile="quick",
        families=ALL_FAMILIES,
        data=DataConfig(max_rows=20_000, ood_max_rows=2_000, twitter_samples_train=8_000),
        calibration=_served_calibration(),
        tuning=TuningConfig(families=("keras_embedding",), n_trials=6),
        ensemble=EnsembleConfig(enabled=True),
        models=ModelsConfig(distilled=DistilledConfig(max_train_samples=12_000)),
    )


def _full() -> PipelineConfig:
    """Every family on every row plus 8,000 stripped ``twitter_samples``, BERT on the whole training
    split (a GPU is used when present), then the ensemble and its distilled student."""
    return PipelineConfig(
        profile="full",
        families=ALL_FAMILIES,
        data=DataConfig(ood_max_rows=2_000, twitter_samples_train=8_000),
        ensemble=EnsembleConfig(enabled=True),
        models=ModelsConfig(bert=BertConfig(epochs=2)),
        calibration=_served_calibration(),
        tuning=TuningConfig(families=("keras_embedding",), n_trials=20),
    )


def _tiny() -> PipelineConfig:
    """Seconds-long settings for tests and smoke checks."""
    return PipelineConfig(
        profile="tiny",
        data=DataConfig(max_rows=1_500, ood_max_rows=300, human_max_rows=400),
        models=ModelsConfig(tfidf=TfidfConfig(max_features=20_000, char_ngram_max=4)),
        serving=ServingConfig(measure=False),  # seconds per version: the serving-cost tests turn it on
    )


PROFILES = {"tiny": _tiny, "quick": _quick, "full": _full}


def get_profile(name: str) -> PipelineConfig:
    """A fresh config instance of the named profile.

    Args:
        name: one of ``tiny``, ``quick``, ``full``.

    Returns:
        A new :class:`PipelineConfig` the caller may modify.
    """
    try:
        return PROFILES[name]()
    except KeyError:
        raise ConfigError(f"Unknown profile '{name}': choose from {', '.join(PROFILES)}.") from None
