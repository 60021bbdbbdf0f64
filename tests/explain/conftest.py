"""Fixtures: the session's tiny TF-IDF classifiers (real tweets) and a tiny BERT trained by the real
pipeline into its own SQLite store (with its ONNX export, as a real champion has)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.config import BertConfig, TrackingConfig
from core.models.classifier import SentimentClassifier
from tests.fixtures import write_easy_csv
from tests.models.contract import train_family
from tests.models.tiny_bert import build_tiny_bert

NEGATIVE_TWEETS = [
    "my flight was delayed again and they lost my bag, worst trip",
    "the crew was rude and i hate this airline",
    "so sad, terrible service and a broken seat",
    "cancelled again, i am angry and tired",
    "awful day, missed my connection and nobody helped",
]
"""Constructed tweets with clear negative words (of the real data and of the easy fixture)."""


@pytest.fixture(scope="session")
def tfidf_classifiers(trained) -> dict[str, SentimentClassifier]:
    """The tiny pipeline's TF-IDF classifier per preprocessing variant (none, lemmatize, stem)."""
    _, result = trained
    return {run.preprocessing: run.classifier for run in result.runs if run.family == "tfidf"}


@dataclass(frozen=True)
class BertStore:
    """A store holding one tiny fine-tuned BERT, its registered version, and the in-memory classifier."""

    tracking: TrackingConfig
    version: str
    classifier: SentimentClassifier


@pytest.fixture(scope="session")
def bert_store(tmp_path_factory: pytest.TempPathFactory) -> BertStore:
    """A tiny random BERT fine-tuned on easy tweets by the real pipeline (seconds)."""
    root = tmp_path_factory.mktemp("explain_bert")
    config = BertConfig(
        checkpoint=str(build_tiny_bert(root / "checkpoint")), max_length=32, batch_size=16, epochs=2, learning_rate=3e-3
    )
    result = train_family("bert", config, write_easy_csv(root / "easy.csv", n=200), root)
    return BertStore(TrackingConfig(store_dir=root / ".mlflow"), result.version, result.classifier)
