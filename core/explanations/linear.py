"""Exact explanations of the TF-IDF + logistic-regression family.

The model's logit is ``intercept + sum_j coef_j * x_j`` over its TF-IDF features. Each
feature's share ``coef_j * x_j`` is split equally among the places it occurs in the
preprocessed tweet (a word n-gram or a character n-gram), and each place's part equally among
the raw tokens its characters came from (see :mod:`core.explanations.tokens`). So the token
weights plus the intercept add up to the logit exactly; a share that cannot be placed (a
preprocessing step that merges tokens) is spread evenly over the tweet's tokens, keeping the sum.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np
from scipy.special import expit

from core.data.loading import NEGATIVE
from core.explanations.base import Explainer, Explanation, TokenWeight
from core.explanations.tokens import align, owners_of, raw_tokens
from core.models.classifier import SentimentClassifier

Span = tuple[int, int]
_WORD_RE = re.compile(r"\S+")


def is_linear(classifier: SentimentClassifier) -> bool:
    """Whether the classifier is a TF-IDF feature union + logistic regression this module can explain exactly."""
    pipeline = getattr(classifier.model, "pipeline", None)
    steps = getattr(pipeline, "named_steps", {})
    if "features" in steps and any(name == "lexicon" for name, _ in steps["features"].transformer_list):
        return False  # lexicon scores are not word n-grams: occlusion explains those models
    return "features" in steps and hasattr(steps.get("logreg"), "coef_")


def word_ngram_spans(vectorizer: Any, doc: str) -> dict[str, list[Span]]:
    """Every word n-gram the vectorizer counts in ``doc``, with the character span of each occurrence."""
    tokens, spans, cursor = [], [], 0
    for token in vectorizer.build_tokenizer()(doc):
        start = doc.find(token, cursor)
        if start < 0:  # the tokenizer rewrote the text: place the token nowhere
            tokens.append(token)
            spans.append((0, 0))
            continue
        tokens.append(token)
        spans.append((start, start + len(token)))
        cursor = start + len(token)
    stop = vectorizer.get_stop_words()
    if stop:
        kept = [i for i, t in enumerate(tokens) if t not in stop]
        tokens, spans = [tokens[i] for i in kept], [spans[i] for i in kept]
    low, high = vectorizer.ngram_range
    out: dict[str, list[Span]] = defaultdict(list)
    for n in range(low, high + 1):
        for i in range(len(tokens) - n + 1):
            out[" ".join(tokens[i : i + n])].append((spans[i][0], spans[i + n - 1][1]))
    return out


def char_wb_ngram_spans(vectorizer: Any, doc: str) -> dict[str, list[Span]]:
    """Every ``char_wb`` n-gram in ``doc`` with its span, as scikit-learn counts them (words padded with spaces)."""
    low, high = vectorizer.ngram_range
    out: dict[str, list[Span]] = defaultdict(list)
    for match in _WORD_RE.finditer(doc):
        a = match.start()
        padded = f" {match.group(0)} "
        for n in range(low, high + 1):
            offsets = range(max(len(padded) - n, 0) + 1)
            for offset in offsets:
                # padded index k is doc index a + k - 1; the padding spaces map outside the word
                out[padded[offset : offset + n]].append((a + offset - 1, a + offset + n - 1))
            if len(offsets) == 1:  # a short word is counted once, at its smallest n only
                break
    return out


_SPANS = {"word": word_ngram_spans, "char_wb": char_wb_ngram_spans}


class LinearExplainer(Explainer):
    """Exact token contributions to the logit of a TF-IDF + logistic-regression classifier."""

    method = "linear"

    def __init__(self, classifier: SentimentClassifier) -> None:
        if not is_linear(classifier):
            raise ValueError(f"The {classifier.family} model is not a TF-IDF + logistic regression pipeline.")
        super().__init__(classifier)
        pipeline = classifier.model.pipeline
        union, logreg = pipeline.named_steps["features"], pipeline.named_steps["logreg"]
        # coef_ scores classes_[1]; every weight here is towards the negative class
        sign = 1.0 if list(logreg.classes_).index(NEGATIVE) == 1 else -1.0
        self.intercept = sign * float(logreg.intercept_[0])
        weights = union.transformer_weights or {}
        coef, offset = sign * logreg.coef_[0], 0
        self._blocks = []
        for name, vectorizer in union.transformer_list:
            names = vectorizer.get_feature_names_out()
            block_coef = coef[offset : offset + len(names)] * float(weights.get(name, 1.0))
            self._blocks.append((vectorizer, names, block_coef))
            offset += len(names)

    def explain_many(self, texts: list[str]) -> list[Explanation]:
        """Explain raw tweets; the preprocessing and the TF-IDF transform run once for the batch.

        P(negative) is the logistic of the logit computed here from the same features, which is how
        the binary logistic regression computes it: the same value ``predict_proba`` gives.
        """
        texts = list(texts)
        processed = self.classifier.preprocessor.transform(texts)
        matrices = [vectorizer.transform(processed).tocsr() for vectorizer, _, _ in self._blocks]
        blocks = zip(matrices, self._blocks, strict=True)
        logits = self.intercept + sum(m @ block_coef for m, (_, _, block_coef) in blocks)
        probabilities = self.classifier.calibrate(expit(np.asarray(logits, dtype=np.float64).reshape(-1)))
        labels = self.classifier.labels(probabilities)
        return [
            self._explain_one(text, doc, [m[row] for m in matrices], float(p), label)
            for row, (text, doc, p, label) in enumerate(zip(texts, processed, probabilities, labels, strict=True))
        ]

    def _explain_one(self, text: str, doc: str, rows: list, probability: float, label: str) -> Explanation:
        tokens = raw_tokens(text)
        owner_of = align(tokens, doc, self.classifier.preprocessor)
        weights = np.zeros(len(tokens))
        unplaced = 0.0
        for (vectorizer, names, block_coef), row in zip(self._blocks, rows, strict=True):
            analyzed = vectorizer.build_preprocessor()(doc)
            spans_of = _SPANS.get(vectorizer.analyzer)
            places = spans_of(vectorizer, analyzed) if spans_of and len(analyzed) == len(doc) else {}
            for j, value in zip(row.indices, row.data, strict=True):
                share = float(block_coef[j] * value)
                spans = places.get(names[j], [])
                for start, end in spans:
                    owners = owners_of(owner_of, start, end)
                    if owners:
                        for o in owners:
                            weights[o] += share / len(spans) / len(owners)
                    else:
                        unplaced += share / len(spans)
                if not spans:
                    unplaced += share
        if len(tokens):
            weights += unplaced / len(tokens)
        items = tuple(TokenWeight(t.text, t.start, t.end, float(w)) for t, w in zip(tokens, weights, strict=True))
        total = self.intercept + float(weights.sum()) if len(tokens) else self.intercept + unplaced
        return Explanation(text, label, probability, self.method, items, total, self.intercept)
