"""The tweet cut into segments for display: words coloured by their push towards negative or positive.

The segments are plain text; the template escapes them (Jinja autoescape), so a tweet that
contains markup is shown as typed, never interpreted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from client_app.api_client import Explanation

MIN_ALPHA = 0.12
"""Faintest colour of a word that pushes at all (the strongest word of the tweet gets 0.85)."""
MAX_ALPHA = 0.85


@dataclass(frozen=True)
class Segment:
    """A piece of the tweet: a weighed word (``direction`` set) or the text between words."""

    text: str
    direction: str | None = None
    """``negative``, ``positive``, or ``None`` for text that pushes neither way."""
    weight: float = 0.0
    strength: float = 0.0
    """|weight| relative to the strongest word of the tweet, in [0, 1]."""

    @property
    def alpha(self) -> str:
        """Opacity of the highlight colour, as CSS wants it."""
        return f"{MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * self.strength:.2f}"

    @property
    def title(self) -> str:
        """Tooltip sentence."""
        return f"pushes towards {self.direction} ({self.weight:+.2f})"


def highlight(text: str, explanation: Explanation) -> list[Segment]:
    """Cut ``text`` into segments following the explanation's word offsets.

    Words whose offsets do not point at themselves in ``text``, or overlap an earlier word, are
    shown unhighlighted (a defensive check: the page never trusts offsets blindly).

    Args:
        text: the tweet as the person typed it (and as sent to the API).
        explanation: the API's answer for that text.

    Returns:
        Segments that concatenate back to ``text`` exactly.
    """
    words = sorted(
        (w for w in explanation.words if 0 <= w.start < w.end <= len(text) and text[w.start : w.end] == w.token),
        key=lambda w: w.start,
    )
    strongest = max((abs(w.weight) for w in words if math.isfinite(w.weight)), default=0.0)
    segments, cursor = [], 0
    for word in words:
        if word.start < cursor:
            continue
        if word.start > cursor:
            segments.append(Segment(text[cursor : word.start]))
        if strongest > 0 and math.isfinite(word.weight) and word.weight != 0:
            direction = "negative" if word.weight > 0 else "positive"
            segments.append(Segment(word.token, direction, word.weight, abs(word.weight) / strongest))
        else:
            segments.append(Segment(word.token))
        cursor = word.end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments
