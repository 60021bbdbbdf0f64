"""Behavioural (CheckList-style) tests: the reusable core suite, then a tiny model trained by the real
pipeline on ~2k real tweets, with loose floors that such a small model honestly meets."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from core.evaluation.behaviour import DIR_PAIRS, MFT_CASES, NEG, run_behaviour

_EXPECTED = {text: expected for cases in MFT_CASES.values() for text, expected in cases}


def _oracle(texts: list[str]) -> np.ndarray:
    """A scorer that knows the suite's answers (and is invariant, and scores intensified tweets further out)."""
    out = []
    for text in texts:
        plain = next((p for p, s, _ in DIR_PAIRS if s == text), text)
        direction = next((d for p, s, d in DIR_PAIRS if text in (p, s)), None)
        if direction is not None:
            out.append((0.8 if direction == NEG else 0.2) + (0.1 if text != plain and direction == NEG else 0.0))
        else:
            out.append(0.9 if _EXPECTED.get(text, NEG) == NEG else 0.1)
    return np.asarray(out)


def test_an_oracle_passes_everything_and_a_constant_fails_half() -> None:
    report = run_behaviour(_oracle)
    assert report.overall == 1.0 and not any(report.failures.values())
    constant = run_behaviour(lambda texts: np.full(len(texts), 0.9))
    assert constant.pass_rates["mft_complaints"] == 1.0 and constant.pass_rates["mft_praise_emojis"] == 0.0
    assert constant.pass_rates["inv_url"] == 1.0 and constant.failures["mft_praise_emojis"]


def test_a_wobbly_scorer_fails_invariance() -> None:
    report = run_behaviour(lambda texts: np.array([0.9 if "http" in t or "@" in t else 0.1 for t in texts]))
    assert report.pass_rates["inv_url"] == 0.0 and report.pass_rates["inv_mention"] == 0.0
    assert report.pass_rates["inv_airline_swap"] == 1.0


@pytest.fixture(scope="module")
def tiny_report(trained):
    """The behaviour report of the tiny pipeline's TF-IDF (none) classifier."""
    _, result = trained
    run = next(r for r in result.runs if r.preprocessing == "none")
    return run, run_behaviour(run.classifier.predict_proba, run.classifier.threshold)


def test_tiny_model_meets_loose_floors(tiny_report) -> None:
    _, report = tiny_report
    rates = report.pass_rates
    # Complaints and praise with plain sentiment words: even 2k noisy tweets teach most of them.
    assert rates["mft_complaints"] >= 0.6, report.failures["mft_complaints"]
    assert rates["mft_praise_emojis"] >= 0.5, report.failures["mft_praise_emojis"]
    # Airline names (a hashtag, "with delta") are rare in the training tweets: they barely move P(negative).
    assert rates["inv_airline_name"] >= 0.8 and rates["inv_airline_swap"] >= 0.8, report.failures
    # Measured, not hidden: the "@user" and "http" tokens lean positive in Sentiment140, so adding a
    # mention or a URL moves P(negative) by 0.1-0.25 for this model (inv_url/inv_mention ~0.33; see
    # the README). No floor on those; the suite reports them.
    assert report.overall >= 0.5, report.pass_rates


def test_pipeline_logs_behaviour_metrics(trained, tracking) -> None:
    _, result = trained
    run = result.runs[0]
    metrics = MlflowClient().get_run(run.run_id).data.metrics
    report = run_behaviour(run.classifier.predict_proba, run.classifier.threshold)
    assert metrics["behaviour_overall"] == pytest.approx(report.overall)
    for name, rate in report.pass_rates.items():
        assert metrics[f"behaviour_{name}"] == pytest.approx(rate)
