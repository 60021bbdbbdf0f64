"""Model-agnostic explanations by occlusion (leave one token out), for every family and runtime.

Each raw token is removed from the tweet in turn; its weight is how much the model's logit of
P(negative) drops without it. All the variants of a batch of tweets are preprocessed and scored
in one call of the classifier's own scorer, so the explanation goes through exactly what serves
the prediction, ONNX Runtime included. The weights are taken before calibration (a calibrator
only rescales the score monotonically, and an isotonic one would flatten small changes to zero);
the reported P(negative) and label are the served, calibrated ones.
"""

from __future__ import annotations

import math

import numpy as np

from core.explanations.base import Explainer, Explanation, TokenWeight, logit
from core.explanations.tokens import RawToken, raw_tokens

_CHUNK = 256
"""Variants scored per ``predict_proba`` call when many tweets are explained at once."""


def without(text: str, token: RawToken) -> str:
    """``text`` with ``token`` cut out (the surrounding spaces stay; cleaning collapses them)."""
    return text[: token.start] + text[token.end :]


class OcclusionExplainer(Explainer):
    """Leave-one-token-out weights in logit units, through the classifier's own scoring."""

    method = "occlusion"

    def explain_many(self, texts: list[str]) -> list[Explanation]:
        """Explain raw tweets: one tweet's variants are always scored together, tweets are grouped into chunks."""
        texts = list(texts)
        tokens = [raw_tokens(text) for text in texts]
        variants = [[text, *(without(text, t) for t in toks), ""] for text, toks in zip(texts, tokens, strict=True)]
        scores: list[list[float]] = []
        batch: list[list[str]] = []
        for group in variants:
            batch.append(group)
            if sum(map(len, batch)) >= _CHUNK:
                scores.extend(self._score(batch))
                batch = []
        if batch:
            scores.extend(self._score(batch))
        out = []
        for text, toks, probs in zip(texts, tokens, scores, strict=True):
            full = logit(probs[0])
            weights = [full - logit(p) for p in probs[1:-1]]
            empty = probs[-1]
            items = tuple(TokenWeight(t.text, t.start, t.end, w) for t, w in zip(toks, weights, strict=True))
            base = logit(empty) if math.isfinite(empty) else None
            served = float(self.classifier.calibrate(np.array([probs[0]]))[0])
            label = self.classifier.labels([served])[0]
            out.append(Explanation(text, label, served, self.method, items, full, base))
        return out

    def _score(self, groups: list[list[str]]) -> list[list[float]]:
        flat = [text for group in groups for text in group]
        raw = self.classifier.model.predict_proba(self.classifier.preprocessor.transform(flat))
        probabilities = raw.tolist()
        out, i = [], 0
        for group in groups:
            out.append(probabilities[i : i + len(group)])
            i += len(group)
        return out
