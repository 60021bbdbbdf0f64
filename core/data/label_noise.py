"""Noise-robust training data: which training tweets a family is fitted on.

Sentiment140 labels come from emoticons (noisy), and the class is confounded with the date
(some days hold almost only one class). Two remedies, each applied to the training split only
and compared with the plain version in ``scripts/ablation.py``:

- **confident-learning cleanup** (``cleanlab``): out-of-fold P(class) from a cheap TF-IDF +
  logistic regression on train, then ``cleanlab.filter.find_label_issues`` flags the tweets
  whose given label disagrees confidently with the others; they are dropped.
- **date-balanced subset**: per calendar day, as many positive as negative tweets (the
  larger class is subsampled, seeded), so the date no longer predicts the class.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from core.config import NoiseConfig
from core.data.preprocessing import tokenize

logger = logging.getLogger(__name__)


def out_of_fold_probabilities(texts: list[str], labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """P(class 0), P(class 1) for each training tweet from a TF-IDF model that never saw it.

    Args:
        texts: cleaned training tweets.
        labels: 1 = negative, 0 = positive.
        folds: stratified folds (each tweet is scored by the model of the other folds).
        seed: fold assignment seed.

    Returns:
        An (n, 2) array of probabilities, columns in label order 0, 1.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # lazy: only for cleanlab
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2), min_df=2),
        LogisticRegression(C=2.0, solver="liblinear", max_iter=1000, random_state=seed),
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(model, list(texts), np.asarray(labels), cv=cv, method="predict_proba")


def label_issues(texts: list[str], labels: np.ndarray, folds: int = 5, seed: int = 42) -> np.ndarray:
    """Boolean mask of training tweets that confident learning flags as probably mislabelled."""
    from cleanlab.filter import find_label_issues  # lazy: an optional remedy

    probabilities = out_of_fold_probabilities(texts, labels, folds, seed)
    return np.asarray(find_label_issues(np.asarray(labels), probabilities, filter_by="prune_by_noise_rate"))


def date_balanced_positions(dates: pd.Series, labels: np.ndarray, seed: int = 42) -> np.ndarray:
    """Sorted positions of a subset with, on each calendar day, as many tweets of each class.

    Days holding one class only contribute nothing; tweets without a date form one bucket.
    """
    frame = pd.DataFrame({"day": pd.to_datetime(dates).dt.date.astype(str).to_numpy(), "label": np.asarray(labels)})
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = []
    for _, day in frame.groupby("day", sort=True):
        by_class = [day.index[day["label"] == c].to_numpy() for c in (0, 1)]
        n = min(len(positions) for positions in by_class)
        keep.extend(rng.choice(positions, size=n, replace=False) for positions in by_class if n)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def training_positions(
    config: NoiseConfig, cleaned_texts: list[str], labels: np.ndarray, dates: pd.Series | None, seed: int
) -> np.ndarray:
    """Positions of the training tweets to fit on after the configured noise remedies.

    Args:
        config: which remedies to apply.
        cleaned_texts: the training split's cleaned tweets (used by the cleanup only).
        labels: the training labels (1 = negative).
        dates: the training tweets' dates (used by the date balancing only).
        seed: seed of the folds and of the subsampling.

    Returns:
        Sorted positions into the training split (all of them when no remedy is on).
    """
    labels = np.asarray(labels)
    keep = np.ones(len(labels), dtype=bool)
    if config.label_cleanup == "cleanlab":
        issues = label_issues(cleaned_texts, labels, config.cleanup_folds, seed)
        logger.info("Confident learning flags %d of %d training labels; they are dropped.", issues.sum(), len(labels))
        keep &= ~issues
    positions = np.flatnonzero(keep)
    if config.date_balanced:
        if dates is None:
            raise ValueError("Date balancing needs the training tweets' dates.")
        balanced = date_balanced_positions(dates.iloc[positions], labels[positions], seed)
        positions = positions[balanced]
        logger.info("Date-balanced subset: %d of %d training tweets.", len(positions), len(labels))
    return positions
