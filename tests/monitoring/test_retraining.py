"""`retrain --with-feedback`: tiny real TF-IDF trainings; a better challenger is promoted, a worse one is not."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.cli import main
from core.config import DEFAULT_DATA_PATH, PipelineConfig
from core.data.loading import LABEL_NAMES, load_sentiment140
from core.data.prepared import prepare_data
from core.monitoring.event_store import EventStore, PredictionRecord, now_iso, text_hash
from core.retraining.loop import retrain
from core.tracking.champion import config_like_champion
from core.tracking.registry import alias_version
from core.training.pipeline import run_pipeline
from tests.conftest import tiny_config


@pytest.fixture
def small_config(small_csv: Path, tmp_path: Path) -> PipelineConfig:
    """TF-IDF on ~2,000 real tweets, with a small training part (12%) and large held-out parts."""
    config = tiny_config(small_csv, tmp_path)
    return dataclasses.replace(
        config,
        preprocessing=("none",),
        data=dataclasses.replace(config.data, ood=False),
        split=dataclasses.replace(config.split, val_fraction=0.44, test_fraction=0.44),
    )


@pytest.fixture
def champion(small_config: PipelineConfig) -> PipelineConfig:
    """A champion trained with ``small_config``."""
    run_pipeline(small_config)
    return small_config


def _feedback_store(tmp_path: Path, truthful: bool) -> EventStore:
    """Flagged tweets: ~1,000 other real tweets, each served with the wrong label and corrected by a user
    (``truthful``: to its real label; otherwise to the opposite, i.e. bad feedback)."""
    lines = DEFAULT_DATA_PATH.read_bytes().splitlines(keepends=True)
    source = tmp_path / "feedback.csv"
    source.write_bytes(b"".join(lines[15::60]))
    tweets = load_sentiment140(source)
    store = EventStore.for_sqlite(tmp_path / "events.db")
    records, corrections = [], []
    for text, label in zip(tweets["text"], tweets["label"], strict=True):
        true_label = LABEL_NAMES[int(label)]
        other = LABEL_NAMES[1 - int(label)]
        correct = true_label if truthful else other
        served = other if truthful else true_label
        record = PredictionRecord(
            uuid.uuid4().hex, now_iso(), text, served, 0.5, "m", "1", 1.0, text_hash(text), len(text)
        )
        records.append(record)
        corrections.append((record.id, correct))
    store.record_predictions(records)
    for prediction_id, correct in corrections:
        store.record_feedback(prediction_id, correct)
    return store


def test_a_better_challenger_is_promoted(champion: PipelineConfig, tmp_path: Path) -> None:
    store = _feedback_store(tmp_path, truthful=True)
    result = retrain(champion, store)
    assert result.feedback_added > 900  # a few are left out: their text is in validation or test
    assert result.challenger_scores["validation"] > result.champion_scores["validation"]
    assert result.promoted and alias_version(champion.tracking) == result.challenger_version
    run = MlflowClient().get_model_version(champion.tracking.registered_model, result.challenger_version).run_id
    logged = MlflowClient().get_run(run).data
    assert logged.tags["retrain_promoted"] == "true" and logged.tags["retrain_champion_version"] == "1"
    metric = champion.evaluation.selection_metric
    assert logged.metrics[f"champion_val_{metric}"] == pytest.approx(result.champion_scores["validation"])
    assert logged.metrics[f"champion_human_select_{metric}"] == pytest.approx(result.champion_scores["human_select"])
    assert logged.metrics["n_train_used"] == pytest.approx(
        len(prepare_data(config_like_champion(champion)).split.train) + result.feedback_added
    )


def test_a_worse_challenger_leaves_the_champion(champion: PipelineConfig, tmp_path: Path, capsys) -> None:
    _feedback_store(tmp_path, truthful=False)  # every "correction" is wrong
    before = alias_version(champion.tracking)
    uri = f"sqlite:///{(champion.tracking.store_dir / 'mlflow.db').resolve()}"
    code = main(
        [
            "retrain",
            "--with-feedback",
            "--store",
            f"sqlite:///{tmp_path / 'events.db'}",
            "--profile",
            "tiny",
            "--no-ood",
            "--tracking-uri",
            uri,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"kept: v{before} stays champion" in out
    assert alias_version(champion.tracking) == before
    assert alias_version(champion.tracking, "challenger") == "2"


def test_held_out_feedback_is_left_out(small_config: PipelineConfig, tmp_path: Path) -> None:
    from core.retraining.loop import add_to_training, flagged_examples

    data = prepare_data(small_config)
    store = EventStore.for_sqlite(tmp_path / "events.db")
    val_text, train_text = data.split.val["text"].iloc[0], data.split.train["text"].iloc[0]
    train_label = LABEL_NAMES[int(data.split.train["label"].iloc[0])]
    other = {"negative": "positive", "positive": "negative"}
    for i, (text, served) in enumerate(
        [(val_text, "negative"), (train_text, train_label), ("brand new tweet", "positive")]
    ):
        store.record_predictions([PredictionRecord(f"p{i}", now_iso(), text, served, 0.5, "m", "1")])
        store.record_feedback(f"p{i}", other[served])
    new, added, held_out, replacing = add_to_training(data, flagged_examples(store))
    assert (added, held_out, replacing) == (2, 1, 1)
    assert len(new.split.train) == len(data.split.train) + 1
    assert val_text not in set(new.split.train["text"])
    corrected = new.split.train[new.split.train["text"] == train_text]["label"]
    assert [LABEL_NAMES[int(v)] for v in corrected] == [other[train_label]]


def test_an_ensemble_champion_is_retrained_member_by_member(small_config: PipelineConfig, tmp_path: Path) -> None:
    from core.config import EnsembleConfig
    from core.tracking.registry import set_alias

    config = dataclasses.replace(
        small_config,
        preprocessing=("none", "stem"),
        ensemble=EnsembleConfig(enabled=True, n_candidates=10, ood_weight=0.0),
    )
    result = run_pipeline(config)
    ensemble = next(r for r in result.runs if r.family == "ensemble")
    set_alias(config.tracking, ensemble.version)
    store = _feedback_store(tmp_path, truthful=True)
    # Another profile's data and ensemble settings: the champion's logged ones must win.
    other = dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, max_rows=500),
        ensemble=EnsembleConfig(n_candidates=50, ood_weight=0.5, min_weight=0.2),
    )
    outcome = retrain(other, store)
    client = MlflowClient()
    challenger = client.get_model_version(config.tracking.registered_model, outcome.challenger_version)
    assert challenger.tags["family"] == "ensemble"
    run = client.get_run(challenger.run_id)
    assert run.data.params["members"] == "tfidf-none,tfidf-stem"
    logged = run.data.params
    assert (logged["ensemble.n_candidates"], logged["ensemble.ood_weight"], logged["ensemble.min_weight"]) == (
        "10",
        "0.0",
        "0.05",
    )
    assert logged["data.max_rows"] == "None"
    member_versions = [m.split(":v")[1] for m in run.data.tags["members"].split(",")]
    assert member_versions == ["4", "5"]  # retrained now, after v1-v3 of the first session
    base = len(prepare_data(config).split.train)
    for version in member_versions:
        member = client.get_run(client.get_model_version(config.tracking.registered_model, version).run_id)
        assert member.data.metrics["n_train_used"] == pytest.approx(base + outcome.feedback_added)
    assert outcome.challenger_scores["validation"] > outcome.champion_scores["validation"]
    assert outcome.promoted and alias_version(config.tracking) == outcome.challenger_version
