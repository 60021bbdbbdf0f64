"""Lexicon-aware features: VADER valence, negation, intensifiers and emoji/emoticon sentiment.

VADER (``vaderSentiment``, its lexicon shipped inside the package: nothing is downloaded) scores
a text with a hand-made valence lexicon and rules for negation ("not good"), intensifiers
("very", "extremely"), capitals and "!". Those rules carry knowledge that 16k noisy,
emoticon-labelled tweets cannot teach an n-gram model, and they hold out of domain.

:class:`LexiconFeatures` is a stateless scikit-learn transformer turning each (cleaned) tweet
into :data:`FEATURE_NAMES`, all in [-1, 1]; the TF-IDF family stacks it next to its TF-IDF
matrix when ``tfidf.lexicon_features`` is on.
"""

from __future__ import annotations

import functools
import re

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

FEATURE_NAMES = (
    "vader_compound",
    "vader_positive",
    "vader_negative",
    "vader_neutral",
    "negations",
    "negated_valence",
    "intensifiers",
    "dampeners",
    "emoji_valence",
    "emoticon_valence",
    "exclamations",
)
_WORD_RE = re.compile(r"\S+")
_NEGATION_WINDOW = 3


@functools.lru_cache(maxsize=1)
def _analyzer():
    """The VADER analyzer (reads the lexicon shipped in the package once per process)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _is_negation(word: str) -> bool:
    from vaderSentiment.vaderSentiment import NEGATE

    return word in NEGATE or word.endswith("n't")


@functools.lru_cache(maxsize=4096)
def _emoji_valence(char: str) -> float:
    """Mean lexicon valence of the words of an emoji's description (0 for a neutral or unknown one)."""
    analyzer = _analyzer()
    description = analyzer.emojis.get(char)
    if not description:
        return 0.0
    values = [analyzer.lexicon[w] for w in description.split() if w in analyzer.lexicon]
    return float(np.mean(values)) if values else 0.0


def _word(token: str) -> str:
    if not any(c.isalpha() for c in token):
        return token
    return token.strip(".,!?;\"'()").lower() or token


def tweet_features(text: str) -> list[float]:
    """The :data:`FEATURE_NAMES` values of one tweet (each in [-1, 1])."""
    from vaderSentiment.vaderSentiment import B_INCR, BOOSTER_DICT

    analyzer = _analyzer()
    scores = analyzer.polarity_scores(text)
    # Words lose surrounding punctuation; tokens without letters (":)", ":-(") are kept whole as emoticons.
    words = [_word(w) for w in _WORD_RE.findall(text)]
    negations = intensifiers = dampeners = 0
    negated_valence = emoticon = 0.0
    for i, word in enumerate(words):
        if _is_negation(word):
            negations += 1
        booster = BOOSTER_DICT.get(word)
        if booster is not None:
            if booster == B_INCR:
                intensifiers += 1
            else:
                dampeners += 1
        valence = analyzer.lexicon.get(word, 0.0)
        if valence and any(_is_negation(w) for w in words[max(0, i - _NEGATION_WINDOW) : i]):
            negated_valence += valence
        if valence and not any(c.isalpha() for c in word):
            emoticon += valence
    emoji = sum(_emoji_valence(c) for c in text if ord(c) > 0x2000)
    return [
        scores["compound"],
        scores["pos"],
        scores["neg"],
        scores["neu"],
        min(negations, 3) / 3,
        float(np.tanh(negated_valence / 4)),
        min(intensifiers, 3) / 3,
        min(dampeners, 3) / 3,
        float(np.tanh(emoji / 4)),
        float(np.tanh(emoticon / 4)),
        min(text.count("!"), 3) / 3,
    ]


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Stateless transformer: texts -> sparse (n, len(FEATURE_NAMES)) lexicon features times ``weight``.

    Args:
        weight: scale of the block next to L2-normalised TF-IDF rows.
    """

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, texts, y=None) -> LexiconFeatures:
        """Nothing to learn (the lexicon is fixed); returns self."""
        return self

    def transform(self, texts) -> sparse.csr_matrix:
        """The features of each text, as a sparse matrix (stacks with TF-IDF in a ``FeatureUnion``)."""
        rows = [tweet_features(str(text)) for text in texts]
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES)) * self.weight)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The feature names, prefixed ``lexicon_``."""
        return np.asarray([f"lexicon_{name}" for name in FEATURE_NAMES], dtype=object)
