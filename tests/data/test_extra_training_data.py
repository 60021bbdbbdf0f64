"""``twitter_samples`` as extra training data: drawn only outside the out-of-domain evaluation set,
never identical to a held-out tweet, and the evaluation set unchanged by it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.config import DEFAULT_NLTK_DATA, DataConfig
from core.data.cleaning import clean_text
from core.data.loading import load_twitter_samples, split_twitter_samples
from core.data.prepared import prepare_data
from core.data.splitting import Split, add_to_train
from core.errors import ConfigError
from core.training.fitting import fit_classifier
from tests.conftest import tiny_config


def _keys(frame: pd.DataFrame) -> set[str]:
    return set(frame["text"].map(clean_text))


def test_twitter_samples_parts_are_disjoint_and_the_evaluation_set_is_fixed() -> None:
    evaluation, extra = split_twitter_samples(DEFAULT_NLTK_DATA, 500, 3000, seed=7)
    assert evaluation["text"].tolist() == load_twitter_samples(DEFAULT_NLTK_DATA, 500, seed=7)["text"].tolist()
    assert len(evaluation) == 500 and len(extra) == 3000
    assert extra["label"].mean() == pytest.approx(0.5, abs=0.01)  # class-stratified
    assert not set(evaluation["text"]) & set(extra["text"])
    _, none = split_twitter_samples(DEFAULT_NLTK_DATA, 500, 0, seed=7)
    assert none.empty
    _, everything_else = split_twitter_samples(DEFAULT_NLTK_DATA, 500, 10**6, seed=7)
    assert len(everything_else) == len(load_twitter_samples(DEFAULT_NLTK_DATA)) - 500


def test_add_to_train_leaves_out_held_out_texts_and_replaces_train_copies() -> None:
    def part(texts: list[str], labels: list[int]) -> pd.DataFrame:
        return pd.DataFrame({"text": texts, "label": labels, "key": [clean_text(t) for t in texts]})

    split = Split(part(["good flight", "bad food"], [0, 1]), part(["late again"], [1]), part(["nice crew"], [0]))
    examples = pd.DataFrame(
        {
            "text": [
                "LATE again",
                "Nice crew",
                "good flight",
                "lost my bag",
                "lost my bag",
                "meh",
                "meh",
                "ood tweet",
            ],
            "label": [1, 0, 1, 1, 1, 0, 1, 0],
        }
    )
    new, added, left_out, replacing = add_to_train(split, examples, held_out_keys=[clean_text("ood tweet")])
    assert (added, replacing) == (2, 1)  # "good flight" (relabelled) and one "lost my bag"; "meh" conflicts
    assert left_out == 3  # validation, test and out-of-domain copies
    assert sorted(new.train["key"]) == ["bad food", "good flight", "lost my bag"]
    assert new.train.set_index("key").loc["good flight", "label"] == 1
    assert new.val is split.val and new.test is split.test


def test_prepare_data_adds_extra_tweets_without_leakage(small_csv: Path, tmp_path: Path) -> None:
    plain_config = tiny_config(small_csv, tmp_path)
    config = dataclasses.replace(plain_config, data=dataclasses.replace(plain_config.data, twitter_samples_train=1500))
    plain, extra = prepare_data(plain_config), prepare_data(config)
    assert plain.n_extra_train == 0
    assert 1400 <= extra.n_extra_train <= 1500
    assert len(extra.split.train) >= len(plain.split.train) + extra.n_extra_train - 20  # a few replace a copy
    assert extra.ood["text"].tolist() == plain.ood["text"].tolist()
    assert extra.split.val.equals(plain.split.val) and extra.split.test.equals(plain.split.test)
    train, added = _keys(extra.split.train), _keys(extra.split.train) - _keys(plain.split.train)
    assert len(added) >= extra.n_extra_train - 20
    for held_out in (extra.split.val, extra.split.test):
        assert not train & _keys(held_out)
    # A few short Sentiment140 tweets ("@user thank you") also occur out of domain; no added one does.
    assert not added & _keys(extra.ood)

    # The extra tweets carry real signal for the out-of-domain set (same source, other tweets).
    def ood_auc(data) -> float:
        classifier, _ = fit_classifier("tfidf", "none", data, config)
        return roc_auc_score(
            data.ood["label"], classifier.predict_processed(data.processed(classifier.preprocessor)["ood"])
        )

    assert ood_auc(extra) > ood_auc(plain) + 0.03


def test_negative_extra_count_is_refused() -> None:
    with pytest.raises(ConfigError, match="twitter_samples_train"):
        DataConfig(twitter_samples_train=-1)
