"""Global drivers over a test split and the date/airline leak check: silent on a model without the
leak, loud on a model trained where the month gives the label away; the chart shows both."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import TfidfConfig
from core.data.prepared import prepare_data
from core.data.preprocessing import Preprocessor
from core.explanations.drivers import COLUMNS, drivers_figure, global_drivers, leak_category, split_texts
from core.models.classifier import SentimentClassifier
from core.models.tfidf import TfidfModel
from tests.fixtures import easy_rows

LEAK_COLOUR = "#e67e00"


def test_leak_categories() -> None:
    assert [leak_category(t) for t in ("June", "#april", "sunday", "4th", "easter", "jetblue", "delayed")] == [
        "month",
        "month",
        "weekday",
        "date",
        "date",
        "airline",
        None,
    ]


def test_split_texts_is_the_pipelines_test_split(trained) -> None:
    config, _ = trained
    assert split_texts(config) == prepare_data(config).split.test["text"].tolist()


def test_drivers_of_the_real_tiny_model_over_its_test_split(trained, tfidf_classifiers) -> None:
    config, _ = trained
    texts = split_texts(config)
    result = global_drivers(tfidf_classifiers["none"], texts, top_k=10, max_texts=None, min_count=3)
    drivers = result.drivers
    assert list(drivers.columns) == COLUMNS and result.n_texts == len(texts) and result.method == "linear"
    negative, positive = drivers[drivers.direction == "negative"], drivers[drivers.direction == "positive"]
    assert len(negative) == len(positive) == 10
    assert (negative.total_weight > 0).all() and (positive.total_weight < 0).all()
    assert negative.total_weight.is_monotonic_decreasing and positive.total_weight.is_monotonic_increasing
    assert (drivers["count"] >= 3).all() and list(negative["rank"]) == list(range(1, 11))
    assert list(drivers["leak"]) == [leak_category(t) for t in drivers["token"]]
    assert result.passed == result.leaks.empty and result.summary().startswith("Leak check")
    figure = drivers_figure(result)
    assert len(figure.data[0].x) == 20
    assert ("passed" if result.passed else "FAILED") in figure.layout.title.text


@pytest.fixture(scope="module")
def month_leaky() -> tuple[SentimentClassifier, list[str]]:
    """A TF-IDF model trained where every negative tweet says "april" and every positive one "june"."""
    rows = easy_rows(400, seed=5)
    texts = [f"{text} {'april' if polarity == 0 else 'june'}" for polarity, text in rows]
    labels = np.array([1 if polarity == 0 else 0 for polarity, _ in rows])
    model = TfidfModel(TfidfConfig(use_char_ngrams=False, min_df=1, C=10.0))
    preprocessor = Preprocessor("none")
    model.fit(preprocessor.transform(texts[:300]), labels[:300], [], labels[:0])
    return SentimentClassifier(preprocessor, model), texts[300:]


def test_a_month_that_gives_the_label_away_fails_the_leak_check(month_leaky) -> None:
    classifier, texts = month_leaky
    result = global_drivers(classifier, texts, top_k=5)
    assert not result.passed
    leaks = {(r.token, r.leak, r.direction) for r in result.leaks.itertuples()}
    assert {("april", "month", "negative"), ("june", "month", "positive")} <= leaks
    assert "'april' (month, towards negative)" in result.summary()
    figure = drivers_figure(result)
    colours = dict(zip(figure.data[0].y, figure.data[0].marker.color, strict=True))
    assert colours["april ⚠ month"] == colours["june ⚠ month"] == LEAK_COLOUR
    assert "FAILED" in figure.layout.title.text and "april" in figure.layout.title.text


def test_occlusion_drivers_for_a_neural_model_on_a_sample(bert_store) -> None:
    texts = [text for _, text in easy_rows(60, seed=9)]
    result = global_drivers(bert_store.classifier, texts, top_k=3, max_texts=30, min_count=2, rank_by="mean_weight")
    assert result.method == "occlusion" and result.n_texts == 30
    negative = set(result.drivers[result.drivers.direction == "negative"].token)
    assert negative & {"delayed", "lost", "awful", "terrible", "cancelled", "rude", "worst", "hate", "broken", "angry"}
    with pytest.raises(ValueError, match="rank_by"):
        global_drivers(bert_store.classifier, texts, rank_by="median")
