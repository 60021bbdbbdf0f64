"""Behavioural tests of a sentiment classifier, CheckList style (Ribeiro et al., 2020).

Three kinds of check, each a small list of airline tweets written for the purpose:

- **minimum functionality** (``mft``): a tweet whose label any sentiment model should get
  (negation such as "not bad" / "never again", delay and lost-luggage complaints, praise with
  emojis); passes when the predicted label is the expected one.
- **invariance** (``inv``): a tweet and a copy with an @mention, a URL or another airline's
  name added or swapped; passes when P(negative) moves by less than ``tolerance``.
- **directional** (``dir``): an intensifier ("very", "so", "!!!") must not weaken the
  sentiment: P(negative) of an intensified complaint is not lower (of intensified praise,
  not higher) than the plain one's, within ``tolerance``.

:func:`run_behaviour` returns each capability's pass rate and the failures; the pipeline logs
the rates as ``behaviour_*`` metrics of every run (:func:`behaviour_metrics`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

NEG, POS = "negative", "positive"

MFT_CASES: dict[str, list[tuple[str, str]]] = {
    "negation": [
        ("never again with this airline", NEG),
        ("i will never fly with you again", NEG),
        ("not happy with the service today", NEG),
        ("the flight was not good at all", NEG),
        ("i don't like this airline anymore", NEG),
        ("not bad at all, the crew was nice", POS),
        ("the food was not bad actually", POS),
        ("no complaints, smooth flight", POS),
    ],
    "complaints": [
        ("my flight was delayed again", NEG),
        ("delayed for 3 hours and no one tells us anything", NEG),
        ("they lost my luggage", NEG),
        ("lost my bag again, still waiting at the airport", NEG),
        ("flight cancelled and no refund", NEG),
        ("stuck on the plane for two hours, missed my connection", NEG),
        ("worst customer service ever", NEG),
        ("rude staff at the gate today", NEG),
    ],
    "praise_emojis": [
        ("great flight today 😊", POS),
        ("thank you for the amazing service ❤️", POS),
        ("love this airline 😍", POS),
        ("the crew was so friendly 👍", POS),
        ("best flight ever :)", POS),
        ("landed early, thanks guys 🙂", POS),
    ],
}

_INV_BASES = [
    "my flight was delayed again",
    "they lost my luggage",
    "great flight today",
    "thanks for the amazing crew",
    "worst customer service ever",
    "love flying with you",
]
INV_PERTURBATIONS: dict[str, Callable[[str], str]] = {
    "mention": lambda text: f"@AirParadise {text}",
    "mention_end": lambda text: f"{text} @jetblue",
    "url": lambda text: f"{text} http://t.co/x7Gh2kLq",
    "airline_name": lambda text: f"{text} #AirParadise",
    "airline_swap": lambda text: f"{text} with delta",
}

DIR_PAIRS: list[tuple[str, str, str]] = [
    ("my flight was delayed", "my flight was delayed again, so annoying!!!", NEG),
    ("the service was bad", "the service was really really bad", NEG),
    ("i am upset", "i am very upset", NEG),
    ("the crew was nice", "the crew was extremely nice", POS),
    ("good flight", "very good flight!!", POS),
    ("i liked the food", "i absolutely loved the food", POS),
]
"""(plain, intensified, direction): intensified is at least as negative (``negative``) or as positive."""


@dataclass
class BehaviourReport:
    """Pass rates per capability (``mft_negation``, ``inv_url``, ``dir_intensifiers``, ...) and failures."""

    pass_rates: dict[str, float]
    failures: dict[str, list[str]] = field(default_factory=dict)

    @property
    def overall(self) -> float:
        """The mean pass rate over capabilities."""
        return float(np.mean(list(self.pass_rates.values())))


def run_behaviour(
    predict_proba: Callable[[list[str]], np.ndarray], threshold: float = 0.5, tolerance: float = 0.1
) -> BehaviourReport:
    """Run every behavioural check against a scorer of raw tweets.

    Args:
        predict_proba: raw tweets -> P(negative) (e.g. ``SentimentClassifier.predict_proba``).
        threshold: P(negative) from which a tweet is labelled negative.
        tolerance: how far P(negative) may move under an invariance, or against a direction.

    Returns:
        The pass rate of each capability and the texts that failed.
    """
    rates: dict[str, float] = {}
    failures: dict[str, list[str]] = {}
    for capability, cases in MFT_CASES.items():
        texts = [text for text, _ in cases]
        probabilities = predict_proba(texts)
        failed = [
            f"{text!r}: P(negative)={p:.2f}, expected {expected}"
            for (text, expected), p in zip(cases, probabilities, strict=True)
            if (p >= threshold) != (expected == NEG)
        ]
        rates[f"mft_{capability}"] = 1 - len(failed) / len(cases)
        failures[f"mft_{capability}"] = failed
    base = predict_proba(_INV_BASES)
    for name, perturb in INV_PERTURBATIONS.items():
        moved = predict_proba([perturb(text) for text in _INV_BASES])
        failed = [
            f"{text!r} -> {perturb(text)!r}: {a:.2f} -> {b:.2f}"
            for text, a, b in zip(_INV_BASES, base, moved, strict=True)
            if abs(a - b) >= tolerance
        ]
        rates[f"inv_{name}"] = 1 - len(failed) / len(_INV_BASES)
        failures[f"inv_{name}"] = failed
    plain = predict_proba([p for p, _, _ in DIR_PAIRS])
    strong = predict_proba([s for _, s, _ in DIR_PAIRS])
    failed = []
    for (text, intensified, direction), a, b in zip(DIR_PAIRS, plain, strong, strict=True):
        wrong_way = (a - b) if direction == NEG else (b - a)
        if wrong_way >= tolerance:
            failed.append(f"{text!r} {a:.2f} -> {intensified!r} {b:.2f} (expected more {direction})")
    rates["dir_intensifiers"] = 1 - len(failed) / len(DIR_PAIRS)
    failures["dir_intensifiers"] = failed
    return BehaviourReport(rates, failures)


def behaviour_metrics(classifier) -> dict[str, float]:  # a SentimentClassifier (no import: no cycle)
    """The classifier's behavioural pass rates as ``behaviour_<capability>`` metrics plus ``behaviour_overall``."""
    report = run_behaviour(classifier.predict_proba, classifier.threshold)
    metrics = {f"behaviour_{name}": float(rate) for name, rate in report.pass_rates.items()}
    metrics["behaviour_overall"] = report.overall
    return metrics
