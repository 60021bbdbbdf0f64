"""Every other family (Keras embedding, Word2Vec/FastText LSTMs, USE): removing the token that the
explanation ranks as the most negative lowers the model's P(negative) on constructed tweets.

Each family is trained once per module by the real pipeline on the easy fixture, with the tiny
settings of its own family tests (tests/models/), and explained through :func:`explainer_for`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.config import KerasEmbeddingConfig, PipelineConfig, TrackingConfig, get_profile
from core.data.prepared import prepare_data
from core.explanations import explainer_for
from core.explanations.base import logit
from core.explanations.occlusion import without
from core.models.classifier import SentimentClassifier
from core.tracking.setup import configure_tracking
from core.training.pipeline import train_and_log
from tests.explain.conftest import NEGATIVE_TWEETS
from tests.fixtures import NEGATIVE_WORDS, write_easy_csv
from tests.models.test_keras_families import SHAPE, tiny_lstm
from tests.models.test_use import TINY as TINY_USE

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

FAMILIES: dict[str, Any] = {
    "keras_embedding": KerasEmbeddingConfig(embedding_dim=16, hidden_units=16, learning_rate=1e-2, epochs=3, **SHAPE),
    "lstm_word2vec": tiny_lstm("word2vec", trainable_embedding=True),
    "lstm_fasttext": tiny_lstm("fasttext", trainable_embedding=True),
    "use": TINY_USE,
}
ROWS = {"use": 200}
"""Easy tweets per family (as in its family test; USE encodes slowly, so fewer)."""


ONE_NEGATIVE_WORD = [
    "my flight was delayed",
    "the crew was rude today",
    "this airline was awful honestly",
    "my seat was broken again",
    "the service was terrible #travel",
]
"""Constructed tweets in the fixture's shape with a single negative word each."""


def pipeline_config(family: str, data: Path, root: Path) -> PipelineConfig:
    """``train_family``'s tiny pipeline for one family, without the out-of-domain check (seconds for USE)."""
    config = get_profile("tiny")
    return dataclasses.replace(
        config,
        families=(family,),
        preprocessing=("none",),
        data=dataclasses.replace(config.data, path=data, max_rows=None, ood=False),
        models=dataclasses.replace(config.models, **{family: FAMILIES[family]}),
        tracking=TrackingConfig(store_dir=root / ".mlflow"),
        cache_dir=root / ".cache",
    )


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite MLflow store for the module's runs (creating a store's tables costs seconds)."""
    return tmp_path_factory.mktemp("explain_families")


@pytest.fixture(scope="module", params=list(FAMILIES))
def family_classifier(request: pytest.FixtureRequest, store_root: Path) -> SentimentClassifier:
    """One family trained on the easy fixture by the real pipeline (its in-memory classifier)."""
    family = request.param
    rows = ROWS.get(family, 400)
    data = write_easy_csv(store_root / f"easy-{rows}.csv", n=rows)
    config = pipeline_config(family, data, store_root)
    configure_tracking(config.tracking)
    result = train_and_log(family, "none", prepare_data(config), config)
    assert result.metrics["test_roc_auc"] >= 0.8, (family, result.metrics)  # the tiny model did learn the fixture
    return result.classifier


def test_removing_the_top_negative_token_lowers_p_negative(family_classifier: SentimentClassifier) -> None:
    classifier = family_classifier
    explainer = explainer_for(classifier)
    assert explainer.method == "occlusion"
    for explanation in explainer.explain_many(NEGATIVE_TWEETS):
        top = explanation.top("negative", 1)
        assert top, explanation.text
        cut = without(explanation.text, top[0])
        p_without = classifier.predict_proba([cut])[0]
        assert p_without < explanation.probability_negative, (explanation.text, top[0])
        # the weight is the drop of the model's own logit (before calibration) without that token
        full, reduced = classifier.model.predict_proba(classifier.preprocessor.transform([explanation.text, cut]))
        assert top[0].weight == pytest.approx(logit(full) - logit(reduced), abs=1e-4)
        assert np.isfinite([t.weight for t in explanation.tokens]).all()


def test_the_negative_word_of_the_tweet_is_its_top_driver(family_classifier: SentimentClassifier) -> None:
    # the easy fixture teaches its negative words: with one in the tweet, it must push hardest, not a filler
    for explanation in explainer_for(family_classifier).explain_many(ONE_NEGATIVE_WORD):
        word = next(w for w in NEGATIVE_WORDS if w in explanation.text.split())
        assert explanation.top("negative", 1)[0].token == word, explanation.to_dict()
