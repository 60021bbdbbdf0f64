"""Train / validation / test split without leakage, decided before any fitting.

Tweets are grouped by their cleaned text: a text that appears several times is kept once
(or dropped when its copies disagree on the label), so no cleaned text can sit in two
splits. ``stratified`` draws the split at random, stratified by class x month so every split
has the same class/date mix; ``time`` holds out the newest tweets (validation before test).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split

from core.config import SplitConfig
from core.data.cleaning import clean_text
from core.errors import DataError

logger = logging.getLogger(__name__)


@dataclass
class Split:
    """The three parts of the data, each a frame with at least ``text`` and ``label``."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    duplicates_dropped: int = 0
    conflicts_dropped: int = 0

    def sizes(self) -> dict[str, int]:
        """Row count of each part."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """One row per cleaned text; texts whose copies disagree on the label are dropped.

    Returns:
        The deduplicated frame (with a ``key`` column), the number of duplicate rows removed
        and the number of rows removed for conflicting labels.
    """
    frame = frame.assign(key=frame["text"].map(clean_text))
    frame = frame[frame["key"] != ""]
    labels_per_key = frame.groupby("key")["label"].nunique()
    conflicting = labels_per_key.index[labels_per_key > 1]
    conflict_mask = frame["key"].isin(conflicting)
    conflicts = int(conflict_mask.sum())
    frame = frame[~conflict_mask]
    deduped = frame.drop_duplicates("key", keep="first")
    return deduped, len(frame) - len(deduped), conflicts


def _strata(frame: pd.DataFrame) -> pd.Series:
    """Class x month labels for stratification (class alone when dates are missing)."""
    if "date" in frame and frame["date"].notna().all():
        strata = frame["label"].astype(str) + "_" + frame["date"].dt.strftime("%Y-%m")
        counts = strata.value_counts()
        if counts.min() >= 10:
            return strata
    return frame["label"]


def _stratified(frame: pd.DataFrame, config: SplitConfig) -> tuple[pd.DataFrame, ...]:
    held_out = config.val_fraction + config.test_fraction
    train, rest = train_test_split(frame, test_size=held_out, random_state=config.seed, stratify=_strata(frame))
    val, test = train_test_split(
        rest,
        test_size=config.test_fraction / held_out,
        random_state=config.seed,
        stratify=_strata(rest),
    )
    return train, val, test


def _by_time(frame: pd.DataFrame, config: SplitConfig) -> tuple[pd.DataFrame, ...]:
    if "date" not in frame or frame["date"].isna().any():
        raise DataError("The time-based split needs a parseable date on every tweet.")
    ordered = frame.sort_values(["date", "id"] if "id" in frame else ["date"], kind="stable")
    n = len(ordered)
    n_test = round(n * config.test_fraction)
    n_val = round(n * config.val_fraction)
    train = ordered.iloc[: n - n_test - n_val]
    val = ordered.iloc[n - n_test - n_val : n - n_test]
    test = ordered.iloc[n - n_test :]
    return train, val, test


def split_data(frame: pd.DataFrame, config: SplitConfig) -> Split:
    """Deduplicate by cleaned text, then split.

    Args:
        frame: loaded tweets (``text``, ``label``, optionally ``date`` and ``id``).
        config: strategy, fractions and seed.

    Returns:
        A :class:`Split`; every part keeps the ``key`` (cleaned text) column.

    Raises:
        DataError: too few tweets, or only one class, to split.
    """
    deduped, duplicates, conflicts = deduplicate(frame)
    if duplicates or conflicts:
        logger.info(
            "Split: %d duplicate texts removed, %d rows with conflicting labels dropped.",
            duplicates,
            conflicts,
        )
    if deduped["label"].nunique() < 2:
        raise DataError("The data holds a single class after deduplication: nothing to learn.")
    min_per_part = 2 / min(config.val_fraction, config.test_fraction)
    if len(deduped) < max(20, min_per_part * 2):
        raise DataError(f"Only {len(deduped)} distinct tweets: too few to split.")
    splitter = _by_time if config.strategy == "time" else _stratified
    train, val, test = (part.reset_index(drop=True) for part in splitter(deduped, config))
    return Split(train, val, test, duplicates_dropped=duplicates, conflicts_dropped=conflicts)


def add_to_train(
    split: Split, examples: pd.DataFrame, held_out_keys: Iterable[str] = ()
) -> tuple[Split, int, int, int]:
    """``split`` with ``examples`` (``text``, ``label``) added to its training part, without leakage.

    The examples are deduplicated like the data (:func:`deduplicate`); one whose cleaned text is in
    validation, test or ``held_out_keys`` is left out, one whose text is already in train replaces
    that row.

    Returns:
        The new split, and how many examples were added, left out as held out, and replacing a train row.
    """
    examples, _, _ = deduplicate(examples)
    held_out = set(split.val["key"]) | set(split.test["key"]) | set(held_out_keys)
    usable = examples[~examples["key"].isin(held_out)]
    keys = set(usable["key"])
    replacing = int(split.train["key"].isin(keys).sum())
    train = pd.concat([split.train[~split.train["key"].isin(keys)], usable], ignore_index=True)
    return dataclasses.replace(split, train=train), len(usable), len(examples) - len(usable), replacing
