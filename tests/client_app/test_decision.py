"""P(negative) shown against the threshold: the shown numbers always agree with the comparison sign,
and a threshold that does not explain the label is not shown."""

from __future__ import annotations

import pytest

from client_app.api_client import Prediction
from client_app.decision import Decision, decision


def shown(label: str, p: float, threshold: float | None) -> Decision:
    return decision(Prediction("id", label, p, "m", "1", threshold))


@pytest.mark.parametrize(
    ("label", "p", "threshold", "expected"),
    [
        ("negative", 0.41, 0.35, ("0.41", "≥", "0.35")),  # the case: a negative below 0.5
        ("positive", 0.2, 0.35, ("0.20", "<", "0.35")),
        ("negative", 0.35, 0.35, ("0.35", "≥", "0.35")),  # reaching the threshold is negative
        ("positive", 0.349, 0.35, ("0.349", "<", "0.350")),  # never "0.35 < 0.35"
        ("positive", 0.34999, 0.35, ("0.34999", "<", "0.35000")),
        ("negative", 0.93, 0.5, ("0.93", "≥", "0.50")),
    ],
)
def test_the_numbers_agree_with_the_sign(label: str, p: float, threshold: float, expected: tuple[str, ...]) -> None:
    d = shown(label, p, threshold)
    assert (d.label, d.probability_negative, d.relation, d.threshold) == (label, *expected)


def test_without_a_threshold_only_p_negative_is_shown() -> None:
    assert shown("negative", 0.41, None) == Decision("negative", "0.41")


def test_a_threshold_that_contradicts_the_label_is_not_shown() -> None:
    assert shown("negative", 0.2, 0.35) == Decision("negative", "0.20")
    assert shown("positive", 0.9, 0.5) == Decision("positive", "0.90")
