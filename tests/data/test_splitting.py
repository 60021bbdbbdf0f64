"""Split invariants: no cleaned text in two splits, stratified counts, seeded, time order."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from core.config import DEFAULT_DATA_PATH, SplitConfig
from core.data.loading import load_sentiment140, stratified_sample
from core.data.splitting import split_data
from core.errors import DataError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    full = load_sentiment140(DEFAULT_DATA_PATH)
    sample = stratified_sample(full, 6_000, seed=3)
    # Near-duplicates that only differ before normalisation, and a conflicting pair.
    extra = sample.head(40).copy()
    extra["text"] = extra["text"].str.upper() + "   http://t.co/abc"
    extra["id"] = extra["id"] + "x"
    conflict = sample.head(1).assign(text="same words different labels", label=1)
    conflict2 = conflict.assign(label=0, id="c2")
    return pd.concat([sample, extra, conflict, conflict2], ignore_index=True)


def test_no_cleaned_text_in_two_splits(frame: pd.DataFrame) -> None:
    split = split_data(frame, SplitConfig())
    keys = [set(part["key"]) for part in (split.train, split.val, split.test)]
    assert not keys[0] & keys[1] and not keys[0] & keys[2] and not keys[1] & keys[2]
    # The 40 re-cased copies are removed as duplicates, or with their original as conflicts.
    assert split.duplicates_dropped + split.conflicts_dropped >= 40
    assert split.conflicts_dropped >= 2
    all_keys = pd.concat([split.train["key"], split.val["key"], split.test["key"]])
    assert all_keys.is_unique
    assert "same words different labels" not in set(all_keys)


def test_fractions_and_stratification(frame: pd.DataFrame) -> None:
    split = split_data(frame, SplitConfig(val_fraction=0.1, test_fraction=0.1))
    total = sum(split.sizes().values())
    assert abs(len(split.val) / total - 0.1) < 0.01 and abs(len(split.test) / total - 0.1) < 0.01
    shares = [part["label"].mean() for part in (split.train, split.val, split.test)]
    assert max(shares) - min(shares) < 0.01
    months = [part["date"].dt.month.value_counts(normalize=True).sort_index() for part in (split.train, split.test)]
    assert (months[0] - months[1]).abs().max() < 0.02


def test_split_is_seeded(frame: pd.DataFrame) -> None:
    a, b = split_data(frame, SplitConfig(seed=5)), split_data(frame, SplitConfig(seed=5))
    c = split_data(frame, SplitConfig(seed=6))
    assert a.test["id"].tolist() == b.test["id"].tolist()
    assert a.test["id"].tolist() != c.test["id"].tolist()


def test_time_split_holds_out_newest(frame: pd.DataFrame) -> None:
    split = split_data(frame, SplitConfig(strategy="time"))
    assert split.train["date"].max() <= split.val["date"].min()
    assert split.val["date"].max() <= split.test["date"].min()


def test_too_small_or_single_class_data_is_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="single class"):
        split_data(frame[frame["label"] == 1], SplitConfig())
    with pytest.raises(DataError, match="too few"):
        split_data(frame.head(10).assign(label=[0, 1] * 5), SplitConfig())


def test_invalid_split_config_is_refused() -> None:
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="split.strategy"):
        SplitConfig(strategy="random")
    with pytest.raises(ConfigError, match="at least 10%"):
        dataclasses.replace(SplitConfig(), val_fraction=0.5, test_fraction=0.45)
