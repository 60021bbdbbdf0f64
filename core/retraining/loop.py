"""The improvement loop: retrain with the tweets users flagged, promote only a better challenger.

``python -m core retrain --with-feedback``:

1. rebuild the champion's exact split from its MLflow run (data file, row cap, strategy, seed,
   fractions), so challenger and champion are judged on the same held-out tweets;
2. add each flagged tweet (feedback that contradicts the served label) with its corrected label
   to the *training* part only: a flagged tweet whose cleaned text is in validation or test is
   left out (no leakage), and one already in train replaces that row (the correction wins);
3. train a challenger with :func:`core.training.pipeline.train_and_log` (a normal MLflow run, registered);
   for an ensemble champion, every member again and the ensemble over them;
4. score the champion, as served, on the same human-labelled ``select`` part, validation and test,
   and compare on the selection metric; the champion alias moves to the challenger only if it is
   strictly better.

The decision is taken where every champion choice of the project is (``evaluation.selection_part``:
the human-labelled ``select`` part by default, never ``report``); ``compare_on`` picks another part
(``validation``, or ``test``). The comparison is
logged on the challenger's run (``champion_*`` metrics, ``retrain_*`` tags).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from core.config import PipelineConfig
from core.data.cleaning import clean_text
from core.data.loading import LABEL_NAMES, NEGATIVE, POSITIVE
from core.data.prepared import PreparedData, prepare_data
from core.data.splitting import add_to_train
from core.errors import ConfigError, CoreError
from core.evaluation.metrics import compute_metrics
from core.monitoring.event_store import EventStore
from core.serving.predictor import Predictor
from core.tracking.champion import ENSEMBLE_KEYS, ChampionRun, champion_run, config_like_champion, with_logged
from core.tracking.registry import set_alias
from core.training.ensemble import train_ensemble_and_log
from core.training.fitting import RunResult
from core.training.pipeline import train_and_log

logger = logging.getLogger(__name__)

COMPARE_SPLITS = ("human_select", "validation", "test")
_METRIC_PREFIX = {"human_select": "human_select", "validation": "val", "test": "test"}
_LABEL_IDS = {LABEL_NAMES[NEGATIVE]: NEGATIVE, LABEL_NAMES[POSITIVE]: POSITIVE}


@dataclass
class RetrainResult:
    """What one retraining did."""

    champion_version: str
    challenger_version: str
    metric: str
    compared_on: str
    champion_scores: dict[str, float]
    """``human_select`` (when the session has it), ``validation`` and ``test`` values of the metric for
    the champion on this split."""
    challenger_scores: dict[str, float]
    promoted: bool
    feedback_added: int
    feedback_held_out: int
    """Flagged tweets left out because their text is in validation or test."""
    feedback_replacing: int
    """Flagged tweets whose text was already in train with the other label."""


def flagged_examples(store: EventStore) -> pd.DataFrame:
    """Flagged tweets with their corrected labels: ``text``, ``label`` (1 = negative), ``key`` (cleaned).

    Tweets stored as a hash only (privacy setting) cannot be used and are left out; when one text
    was flagged several times, its latest correction wins.
    """
    frame = store.predictions_frame()
    flagged = frame[frame["correct_label"].notna() & (frame["correct_label"] != frame["label"]) & frame["text"].notna()]
    hashed = int((frame["correct_label"].notna() & frame["text"].isna()).sum())
    if hashed:
        logger.warning("%d feedback rows have no stored text (privacy mode 'hash') and are not used.", hashed)
    examples = pd.DataFrame(
        {
            "text": flagged["text"].astype(str),
            "label": flagged["correct_label"].map(_LABEL_IDS).astype(int),
        }
    )
    examples["key"] = examples["text"].map(clean_text)
    examples = examples[examples["key"] != ""]
    return examples.drop_duplicates("key", keep="last").reset_index(drop=True)


def add_to_training(data: PreparedData, examples: pd.DataFrame) -> tuple[PreparedData, int, int, int]:
    """``data`` with ``examples`` added to its training part (never one equal to an out-of-domain or
    human-labelled tweet)
    (see :func:`core.data.splitting.add_to_train`).

    Returns:
        The new prepared data, and how many examples were added, left out because their text is
        held out (validation or test), and replacing a train row.
    """
    new_split, added, held_out, replacing = add_to_train(data.split, examples, held_out_keys=data.held_out_keys())
    return dataclasses.replace(data, split=new_split, _processed={}, _train_positions={}), added, held_out, replacing


def _champion_scores(config: PipelineConfig, version: str, data: PreparedData, metric: str) -> dict[str, float]:
    """The champion's metric on the human ``select`` part (when the session has it), validation and
    test, scored as served (raw text in)."""
    predictor = Predictor(config.tracking, version=version)
    threshold = predictor.info.threshold if predictor.info.threshold is not None else 0.5
    scores = {}
    parts = [("validation", data.split.val), ("test", data.split.test)]
    if data.human is not None:
        parts.insert(0, ("human_select", data.human_part("select")))
    for name, frame in parts:
        probabilities = np.array([p.probability_negative for p in predictor.predict(frame["text"].tolist())])
        scores[name] = float(compute_metrics(frame["label"].to_numpy(), probabilities, threshold)[metric])
    return scores


def _train_challenger(
    champion: ChampionRun, family: str, variant: str, data: PreparedData, config: PipelineConfig
) -> RunResult:
    """The challenger's run: one family, or for an ensemble every member of the champion's ensemble
    trained again on ``data`` and the ensemble over them, with the champion's ensemble settings."""
    if family != "ensemble":
        return train_and_log(family, variant, data, config)
    names = tuple(name for name in champion.params.get("members", "").split(",") if name)
    if len(names) < 2:
        raise CoreError(f"The ensemble champion v{champion.version} does not name two members: cannot retrain it.")
    config = with_logged(config, champion.params, ENSEMBLE_KEYS)
    config = dataclasses.replace(config, ensemble=dataclasses.replace(config.ensemble, enabled=True, members=names))
    runs = [train_and_log(*name.rsplit("-", 1), data, config) for name in names]
    return train_ensemble_and_log(runs, data, config)


def retrain(
    config: PipelineConfig,
    store: EventStore | None,
    family: str | None = None,
    preprocessing: str | None = None,
    compare_on: str | None = None,
) -> RetrainResult:
    """Train a challenger (with the flagged tweets when ``store`` is given) and promote it only if better.

    Args:
        config: training settings (its data and split settings are replaced by the champion's).
        store: event store holding the feedback (``None``: retrain on the original data only).
        family: challenger family (default: the champion's).
        preprocessing: challenger preprocessing variant (default: the champion's).
        compare_on: ``human_select``, ``validation`` or ``test``: the part the decision is made on
            (default: the config's ``evaluation.selection_part``).

    Raises:
        ModelNotFoundError: no champion yet.
        CoreError: ``store`` holds no usable flagged tweet.
    """
    compare_on = compare_on or ("validation" if config.evaluation.selection_part == "val" else "human_select")
    if compare_on not in COMPARE_SPLITS:
        raise ConfigError(f"compare_on must be one of {', '.join(COMPARE_SPLITS)}.")
    champion = champion_run(config)
    config = config_like_champion(config, champion)
    family = family or champion.family
    variant = preprocessing or champion.preprocessing
    metric = config.evaluation.selection_metric
    data = prepare_data(config)
    added = held_out = replacing = 0
    if store is not None:
        examples = flagged_examples(store)
        if examples.empty:
            raise CoreError("The event store holds no flagged tweet with its text: nothing to retrain with.")
        data, added, held_out, replacing = add_to_training(data, examples)
        logger.info(
            "Feedback: %d flagged tweets added to train (%d held out, %d replacing).", added, held_out, replacing
        )
    challenger = _train_challenger(champion, family, variant, data, config)
    challenger_scores = {
        name: challenger.metrics[f"{prefix}_{metric}"]
        for name, prefix in _METRIC_PREFIX.items()
        if f"{prefix}_{metric}" in challenger.metrics
    }
    if compare_on not in challenger_scores:
        raise ConfigError(f"compare_on={compare_on}: this session has no such part (data.human is off?).")
    champion_scores = _champion_scores(config, champion.version, data, metric)
    promoted = challenger_scores[compare_on] > champion_scores[compare_on]
    if promoted:
        set_alias(config.tracking, challenger.version)
    set_alias(config.tracking, challenger.version, alias="challenger")
    client = MlflowClient()
    for name, value in champion_scores.items():
        client.log_metric(challenger.run_id, f"champion_{_METRIC_PREFIX[name]}_{metric}", value)
    for key, value in {
        "retrain": "with-feedback" if store is not None else "plain",
        "retrain_champion_version": champion.version,
        "retrain_compared_on": compare_on,
        "retrain_promoted": str(promoted).lower(),
        "retrain_feedback_added": str(added),
    }.items():
        client.set_tag(challenger.run_id, key, value)
    logger.info(
        "Challenger v%s %s_%s=%.4f vs champion v%s %.4f: %s",
        challenger.version,
        compare_on,
        metric,
        challenger_scores[compare_on],
        champion.version,
        champion_scores[compare_on],
        "promoted" if promoted else "champion kept",
    )
    return RetrainResult(
        champion.version,
        challenger.version,
        metric,
        compare_on,
        champion_scores,
        challenger_scores,
        promoted,
        added,
        held_out,
        replacing,
    )
