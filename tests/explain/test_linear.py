"""Exact explanations of the real tiny TF-IDF models: weights + intercept are the logit, every token
of the original text is covered, and removing the top negative word lowers P(negative)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core.evaluation.calibration import Calibrator
from core.explanations import LinearExplainer, OcclusionExplainer, explainer_for
from core.explanations.occlusion import without
from tests.explain.conftest import NEGATIVE_TWEETS

ODD_TWEETS = [
    "My flight was DELAYED again &amp; they lost my bag!!! http://t.co/abc",
    "@AirParadise the crew was lovely, thanks :) 10/10 #love",
    "cafÃ© was sooooo good, don't miss it",
    "ok",
]


@pytest.mark.parametrize("variant", ["none", "lemmatize", "stem"])
def test_weights_and_intercept_sum_to_the_logit(tfidf_classifiers, variant: str) -> None:
    classifier = tfidf_classifiers[variant]
    texts = NEGATIVE_TWEETS + ODD_TWEETS
    explanations = LinearExplainer(classifier).explain_many(texts)
    pipeline = classifier.model.pipeline
    logits = pipeline.decision_function(classifier.preprocessor.transform(texts))
    probabilities = classifier.predict_proba(texts)
    raw = classifier.model.predict_proba(classifier.preprocessor.transform(texts))
    for text, explanation, logit, p, p_raw in zip(texts, explanations, logits, probabilities, raw, strict=True):
        total = explanation.base_value + sum(t.weight for t in explanation.tokens)
        assert abs(total - logit) < 1e-6, text
        assert abs(explanation.logit - logit) < 1e-6
        assert explanation.probability_negative == pytest.approx(p, abs=1e-12)
        assert 1 / (1 + math.exp(-total)) == pytest.approx(p_raw, abs=1e-9)
        assert explanation.base_value == pytest.approx(pipeline.named_steps["logreg"].intercept_[0])
        assert all(text[t.start : t.end] == t.token for t in explanation.tokens)
        assert explanation.label == classifier.labels([p])[0] and explanation.method == "linear"


def test_one_tweet_alone_gets_the_same_weights_as_in_a_batch(tfidf_classifiers) -> None:
    explainer = LinearExplainer(tfidf_classifiers["none"])
    batch = explainer.explain_many(ODD_TWEETS)
    assert [explainer.explain(text) for text in ODD_TWEETS] == batch


@pytest.mark.parametrize("method", ["linear", "occlusion"])
def test_removing_the_top_negative_token_lowers_p_negative(tfidf_classifiers, method: str) -> None:
    for variant, classifier in tfidf_classifiers.items():
        explainer = explainer_for(classifier, method)
        for explanation in explainer.explain_many(NEGATIVE_TWEETS):
            top = explanation.top("negative", 1)
            assert top, (variant, explanation.text)
            p_without = classifier.predict_proba([without(explanation.text, top[0])])[0]
            assert p_without < explanation.probability_negative, (variant, explanation.text, top[0])


def test_exact_and_occlusion_weights_agree_on_the_strongest_words(tfidf_classifiers) -> None:
    classifier = tfidf_classifiers["none"]
    exact = LinearExplainer(classifier).explain_many(NEGATIVE_TWEETS)
    occluded = OcclusionExplainer(classifier).explain_many(NEGATIVE_TWEETS)
    for a, b in zip(exact, occluded, strict=True):
        wa, wb = np.array([t.weight for t in a.tokens]), np.array([t.weight for t in b.tokens])
        assert np.corrcoef(wa, wb)[0, 1] > 0.8, a.text
        assert a.probability_negative == pytest.approx(b.probability_negative, abs=1e-12) and a.label == b.label


def test_auto_picks_exact_for_tfidf_and_linear_is_refused_elsewhere(tfidf_classifiers, bert_store) -> None:
    assert explainer_for(tfidf_classifiers["stem"]).method == "linear"
    assert explainer_for(bert_store.classifier).method == "occlusion"
    with pytest.raises(ValueError, match="not a TF-IDF"):
        explainer_for(bert_store.classifier, "linear")
    with pytest.raises(ValueError, match="Unknown explanation method"):
        explainer_for(bert_store.classifier, "shap")


def test_a_calibrated_model_reports_the_served_probability_and_explains_its_raw_logit(tfidf_classifiers) -> None:
    classifier = tfidf_classifiers["none"]
    raw = classifier.model.predict_proba(classifier.preprocessor.transform(NEGATIVE_TWEETS + ODD_TWEETS))
    labels = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0])
    calibrated = dataclasses.replace(classifier, calibrator=Calibrator.fit("temperature", labels, raw))
    served = calibrated.predict_proba(NEGATIVE_TWEETS)
    assert np.abs(served - classifier.predict_proba(NEGATIVE_TWEETS)).max() > 1e-3  # the calibrator does something
    logits = classifier.model.pipeline.decision_function(classifier.preprocessor.transform(NEGATIVE_TWEETS))
    for method in ("linear", "occlusion"):
        explanations = explainer_for(calibrated, method).explain_many(NEGATIVE_TWEETS)
        for explanation, p, logit in zip(explanations, served, logits, strict=True):
            assert explanation.probability_negative == pytest.approx(p, abs=1e-9)
            assert explanation.label == calibrated.labels([p])[0]
            assert explanation.logit == pytest.approx(logit, abs=1e-6)
        if method == "linear":
            weights = sum(t.weight for t in explanations[0].tokens)
            assert explanations[0].base_value + weights == pytest.approx(logits[0], abs=1e-6)
