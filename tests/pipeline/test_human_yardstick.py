"""The human yardstick: human-labelled tweets are never trained on, the ``report`` part never steers a
choice, and the champion, calibration, threshold and ensemble weights come from ``select``."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from core.config import DEFAULT_DATA_PATH, DEFAULT_HUMAN_DIR, CalibrationConfig, EnsembleConfig, PipelineConfig
from core.data.cleaning import clean_text
from core.data.human import STS_GOLD_FILE, TWEETEVAL_LABELS_FILE, TWEETEVAL_TEXT_FILE, load_tweeteval
from core.data.prepared import PreparedData, prepare_data
from core.retraining.loop import add_to_training
from core.training.ensemble import build_ensemble
from core.training.fitting import evaluate_classifier, fit_classifier
from tests.conftest import tiny_config


def _sts_rows() -> list[tuple[str, str]]:
    """STS-Gold's (id, tweet) pairs, every row."""
    with open(DEFAULT_HUMAN_DIR / STS_GOLD_FILE, encoding="utf-8") as fh:
        return [(row["id"], row["tweet"]) for row in csv.DictReader(fh, delimiter=";")]


@pytest.fixture(scope="module")
def leaky_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sentiment140 rows holding every STS-Gold tweet that shares an id with the training file, one
    row in 25 of the rest, and three TweetEval tweets written as Sentiment140 rows (a user's data
    that contains human-labelled tweets)."""
    sts_ids = {tweet_id for tweet_id, _ in _sts_rows()}
    raw = DEFAULT_DATA_PATH.read_bytes().splitlines(keepends=True)
    ids = [(re.match(rb'^"[^"]*","(\d+)"', line) or [b"", b""])[1].decode() for line in raw]
    kept = [line for i, (line, tweet_id) in enumerate(zip(raw, ids, strict=True)) if i % 25 == 0 or tweet_id in sts_ids]
    tweeteval = load_tweeteval(DEFAULT_HUMAN_DIR / TWEETEVAL_TEXT_FILE, DEFAULT_HUMAN_DIR / TWEETEVAL_LABELS_FILE)
    for i, row in enumerate(tweeteval.head(3).itertuples()):
        polarity = "0" if row.label == 1 else "4"
        text = row.text.replace('"', "'")
        row = f'"{polarity}","9{i:09d}","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","user{i}","{text}"\n'
        kept.append(row.encode("latin-1", errors="replace"))
    path = tmp_path_factory.mktemp("leaky") / "leaky.csv"
    path.write_bytes(b"".join(kept))
    return path


def _config(data_path: Path, store: Path, **data: object) -> PipelineConfig:
    config = tiny_config(data_path, store)
    return dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, **data),
        calibration=CalibrationConfig(method="temperature", threshold_rule="metric"),
    )


def test_no_human_labelled_tweet_is_ever_in_a_training_set(leaky_csv: Path, tmp_path: Path) -> None:
    config = _config(leaky_csv, tmp_path, human_max_rows=None, twitter_samples_train=500)
    data = prepare_data(config)
    human_keys = set(data.human["text"].map(clean_text))
    train_keys = set(data.split.train["key"])
    assert len(data.human) > 2_500 and data.n_extra_train > 0
    assert not human_keys & train_keys
    # The STS-Gold tweets whose ids are in the training file are trained on, so never evaluated.
    in_file = set(pd.read_csv(leaky_csv, header=None, encoding="latin-1", dtype=str)[1])
    shared_texts = {clean_text(tweet) for tweet_id, tweet in _sts_rows() if tweet_id in in_file}
    assert len(shared_texts) > 300
    assert not shared_texts & human_keys
    # The TweetEval tweets the user's file contained were left out of training, not of the yardstick.
    tweeteval = load_tweeteval(DEFAULT_HUMAN_DIR / TWEETEVAL_TEXT_FILE, DEFAULT_HUMAN_DIR / TWEETEVAL_LABELS_FILE)
    planted = {clean_text(t) for t in tweeteval.head(3)["text"]}
    assert planted <= human_keys and not planted & train_keys
    # Retraining with feedback never adds a human-labelled tweet either.
    examples = pd.DataFrame({"text": [data.human["text"].iloc[0], "a brand new complaint about my lost bag"]})
    examples["label"] = [1, 1]
    retrained, added, held_out, _ = add_to_training(data, examples)
    assert (added, held_out) == (1, 1) and not set(retrained.split.train["key"]) & human_keys


@pytest.fixture(scope="module")
def data(small_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[PipelineConfig, PreparedData]:
    config = _config(small_csv, tmp_path_factory.mktemp("yardstick"))
    return config, prepare_data(config)


def _relabelled(data: PreparedData, part: str) -> PreparedData:
    """``data`` whose human ``part`` has every label flipped (texts and parts unchanged)."""
    human = data.human.copy()
    in_part = human["part"] == part
    human.loc[in_part, "label"] = 1 - human.loc[in_part, "label"]
    return dataclasses.replace(data, human=human, _processed={}, _train_positions={})


def _decisions(config: PipelineConfig, data: PreparedData) -> dict[str, object]:
    stem, _ = fit_classifier("tfidf", "stem", data, config)
    plain, _ = fit_classifier("tfidf", "none", data, config)
    ensemble, facts = build_ensemble([("tfidf-stem", stem), ("tfidf-none", plain)], data, config)
    metrics = evaluate_classifier(stem, data)
    return {
        "threshold": stem.threshold,
        "temperature": round(stem.calibrator.temperature, 9),
        "weights": [round(w, 9) for w in ensemble.model.weights],
        "ensemble_threshold": ensemble.threshold,
        "selection": metrics[config.evaluation.selection_key],
        "report": metrics["human_report_roc_auc"],
    }


def test_the_report_part_never_influences_a_choice(data) -> None:
    config, prepared = data
    config = dataclasses.replace(config, ensemble=EnsembleConfig(enabled=True, min_weight=0.0))
    assert config.evaluation.selection_key == "human_select_roc_auc"
    before = _decisions(config, prepared)
    after = _decisions(config, _relabelled(prepared, "report"))
    assert after["report"] == pytest.approx(1 - before["report"])  # the labels did change...
    del before["report"], after["report"]
    assert after == before  # ...and no choice moved


def test_threshold_calibration_and_weights_come_from_select(data) -> None:
    config, prepared = data
    config = dataclasses.replace(config, ensemble=EnsembleConfig(enabled=True, min_weight=0.0))
    before = _decisions(config, prepared)
    flipped = _decisions(config, _relabelled(prepared, "select"))
    assert flipped["selection"] == pytest.approx(1 - before["selection"])
    assert flipped["temperature"] != before["temperature"] and flipped["weights"] != before["weights"]
    # Validation labels do not move them: they are fitted on human select.
    val = prepared.split.val.assign(label=1 - prepared.split.val["label"])
    noisy_val = dataclasses.replace(prepared, split=dataclasses.replace(prepared.split, val=val), _processed={})
    same = _decisions(config, noisy_val)
    assert (same["threshold"], same["temperature"], same["weights"]) == (
        before["threshold"],
        before["temperature"],
        before["weights"],
    )


def test_the_champion_is_the_best_version_on_human_select(trained, tracking) -> None:
    config, result = trained
    client = MlflowClient()
    champion = client.get_model_version_by_alias(tracking.registered_model, "champion")
    scores = {r.version: r.metrics["human_select_roc_auc"] for r in result.runs}
    assert str(champion.version) == max(scores, key=lambda v: (scores[v], -int(v)))
    run = mlflow.get_run(champion.run_id)
    assert run.data.params["evaluation.selection_part"] == "human_select"
    for part in ("select", "report"):
        for metric in ("roc_auc", "accuracy", "f1_negative", "ece"):
            assert np.isfinite(run.data.metrics[f"human_{part}_{metric}"])
            for name in ("sts_gold", "tweeteval"):
                assert np.isfinite(run.data.metrics[f"human_{part}_{name}_{metric}"])
