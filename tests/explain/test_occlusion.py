"""Occlusion explains any family through its own scorer: a tiny BERT trained by the real pipeline,
explained in PyTorch and through the ONNX Runtime export that serving uses."""

from __future__ import annotations

import numpy as np
import pytest

from core.explanations import OcclusionExplainer, explainer_for
from core.explanations.occlusion import without
from core.explanations.tokens import raw_tokens
from core.serving.predictor import Predictor
from tests.explain.conftest import NEGATIVE_TWEETS


@pytest.fixture(scope="module")
def bert_runtimes(bert_store) -> dict:
    """The tiny BERT in memory (PyTorch) and as served from the registry through ONNX Runtime."""
    onnx = Predictor(bert_store.tracking, version=bert_store.version, runtime="onnx")
    served = onnx.classifier
    assert served.runtime == "onnx"
    return {"native": bert_store.classifier, "onnx": served}


@pytest.mark.parametrize("runtime", ["native", "onnx"])
def test_removing_the_top_negative_token_lowers_p_negative(bert_runtimes: dict, runtime: str) -> None:
    classifier = bert_runtimes[runtime]
    explanations = explainer_for(classifier).explain_many(NEGATIVE_TWEETS)
    for explanation in explanations:
        assert explanation.method == "occlusion"
        assert [t.token for t in explanation.tokens] == [t.text for t in raw_tokens(explanation.text)]
        top = explanation.top("negative", 1)
        assert top, explanation.text
        p_without = classifier.predict_proba([without(explanation.text, top[0])])[0]
        assert p_without < explanation.probability_negative, (runtime, explanation.text, top[0])
        # the weight is exactly that drop of the model's logit (before any calibration)
        both = classifier.preprocessor.transform([explanation.text, without(explanation.text, top[0])])
        full, cut = classifier.model.predict_proba(both)
        drop = np.log(full / (1 - full)) - np.log(cut / (1 - cut))
        assert top[0].weight == pytest.approx(drop, abs=1e-4)


def test_the_negative_word_of_the_tweet_is_its_top_driver(bert_runtimes: dict) -> None:
    # the easy fixture teaches "delayed"/"lovely": the trained model must key on them, not on fillers
    explainer = OcclusionExplainer(bert_runtimes["onnx"])
    negative, positive = explainer.explain_many(["my flight was delayed", "my flight was lovely"])
    assert negative.top("negative", 1)[0].token == "delayed"
    assert positive.top("positive", 1)[0].token == "lovely"
    assert negative.probability_negative > positive.probability_negative


def test_onnx_and_pytorch_explanations_agree(bert_runtimes: dict) -> None:
    native, onnx = (explainer_for(bert_runtimes[r]).explain_many(NEGATIVE_TWEETS) for r in ("native", "onnx"))
    for a, b in zip(native, onnx, strict=True):
        np.testing.assert_allclose([t.weight for t in a.tokens], [t.weight for t in b.tokens], atol=2e-2)
        assert a.base_value is not None and abs(a.base_value - b.base_value) < 2e-2
