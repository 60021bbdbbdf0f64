"""Lexicon-aware features: VADER valence, negation, intensifiers, emoji/emoticon sentiment, and the
TF-IDF family stacking them (trained, saved, reloaded, served)."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.config import TfidfConfig
from core.explanations import explainer_for
from core.models.lexicon import FEATURE_NAMES, LexiconFeatures, tweet_features
from core.models.tfidf import TfidfModel
from tests.fixtures import easy_rows


def _features(text: str) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, tweet_features(text), strict=True))


def test_valence_negation_intensifiers_and_emojis() -> None:
    good, not_good, very_good = (
        _features("the flight was good"),
        _features("the flight was not good"),
        _features("the flight was very good"),
    )
    assert good["vader_compound"] > 0.3 and not_good["vader_compound"] < 0
    assert not_good["negations"] > 0 and not_good["negated_valence"] > 0  # a positive word under negation
    assert _features("i don't hate it")["negated_valence"] < 0
    assert very_good["intensifiers"] > 0 and very_good["vader_compound"] > good["vader_compound"]
    assert _features("slightly good")["dampeners"] > 0
    assert _features("landed 😊")["emoji_valence"] > 0 and _features("landed 😠")["emoji_valence"] < 0
    assert _features("landed :)")["emoticon_valence"] > 0 and _features("landed :(")["emoticon_valence"] < 0
    assert _features("delayed!!!")["exclamations"] == 1.0
    assert all(-1.0 <= v <= 1.0 for v in _features("NOT good at all!!! 😠😠😠 :( :( never again").values())


def test_transformer_is_stateless_sparse_and_weighted() -> None:
    texts = ["great crew", "lost my bag", ""]
    matrix = LexiconFeatures(weight=2.0).fit(["anything"]).transform(texts)
    assert matrix.shape == (3, len(FEATURE_NAMES)) and matrix.format == "csr"
    np.testing.assert_allclose(matrix.toarray(), 2.0 * LexiconFeatures().transform(texts).toarray())
    assert list(LexiconFeatures().get_feature_names_out())[0] == "lexicon_vader_compound"


def test_tfidf_with_lexicon_features_trains_saves_and_reloads(tmp_path) -> None:
    rows = easy_rows(300, seed=3)
    texts = [text for _, text in rows]
    labels = np.array([1 if polarity == 0 else 0 for polarity, _ in rows])
    config = dataclasses.replace(TfidfConfig(max_features=5000, char_ngram_max=3), lexicon_features=True)
    model = TfidfModel(config, seed=0)
    facts = model.fit(texts[:200], labels[:200], texts[200:], labels[200:])
    plain = TfidfModel(dataclasses.replace(config, lexicon_features=False), seed=0)
    plain_facts = plain.fit(texts[:200], labels[:200], texts[200:], labels[200:])
    assert facts["n_features"] == plain_facts["n_features"] + len(FEATURE_NAMES)
    assert "vaderSentiment" in model.requirements and "vaderSentiment" not in plain.requirements
    p = model.predict_proba(texts[200:])
    assert np.mean((p >= 0.5) == labels[200:]) > 0.9
    model.save(tmp_path)
    np.testing.assert_allclose(TfidfModel.load(tmp_path).predict_proba(texts[200:]), p)


def test_lexicon_model_is_explained_by_occlusion(plateau_session) -> None:
    run = next(r for r in plateau_session.result.runs if r.family == "tfidf")
    assert run.classifier.model.config.lexicon_features
    explanation = explainer_for(run.classifier).explain("my flight was delayed and they lost my bag")
    assert explainer_for(run.classifier).method == "occlusion"
    assert explanation.probability_negative == float(run.classifier.predict_proba([explanation.text])[0])
