"""The TF-IDF baseline: learns on a small real split, fits on train only, saves and reloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from core.config import SplitConfig, TfidfConfig
from core.data.loading import load_sentiment140
from core.data.preprocessing import Preprocessor, tokenize
from core.data.splitting import split_data
from core.models import get_family
from core.models.tfidf import TfidfModel


@pytest.fixture(scope="module")
def texts(small_csv: Path) -> dict:
    split = split_data(load_sentiment140(small_csv), SplitConfig(seed=1))
    pre = Preprocessor("none")
    return {
        name: (pre.transform(part["text"]), part["label"].to_numpy())
        for name, part in (("train", split.train), ("val", split.val), ("test", split.test))
    }


def test_registered_under_its_name() -> None:
    assert get_family("tfidf") is TfidfModel


def test_beats_chance_and_reloads_identically(texts: dict, tmp_path: Path) -> None:
    model = TfidfModel(TfidfConfig(max_features=5_000), seed=0)
    facts = model.fit(*texts["train"], *texts["val"])
    assert facts["n_features"] > 1_000
    p = model.predict_proba(texts["test"][0])
    assert p.shape == (len(texts["test"][0]),) and ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(texts["test"][1], p) > 0.7
    model.save(tmp_path)
    np.testing.assert_array_equal(TfidfModel.load(tmp_path).predict_proba(texts["test"][0]), p)


def test_vocabulary_comes_from_train_only(texts: dict) -> None:
    train_x, train_y = texts["train"]
    val_x = [t + " zzvalonly qqvalonly" for t in texts["val"][0]]
    model = TfidfModel(TfidfConfig(min_df=1), seed=0)
    model.fit(train_x, train_y, val_x, texts["val"][1])
    vocabulary = model.vocabulary()
    assert "zzvalonly" not in vocabulary and "qqvalonly" not in vocabulary
    train_tokens = {tok for t in train_x for tok in tokenize(t)}
    unigrams = {v for v in vocabulary if " " not in v}
    assert unigrams and unigrams <= train_tokens


def test_predict_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="before fit"):
        TfidfModel().predict_proba(["x"])
