"""Global explanations: the words that push a model towards each class over a set of tweets, and
a leak check that none of the top drivers is a date, month, weekday or airline-name token.

In the training data negatives are mostly from April and positives from June, so a model can
learn the calendar instead of the sentiment; a month or a holiday among its top drivers is the
sign. Tokens are grouped by their cleaned form (what the model sees: ``#Fail`` and ``fail``
together, every @mention as ``@user``).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from core.config import PipelineConfig
from core.data.cleaning import clean_text
from core.data.loading import load_sentiment140, stratified_sample
from core.data.splitting import split_data
from core.explanations import explainer_for
from core.models.classifier import SentimentClassifier

if TYPE_CHECKING:
    import plotly.graph_objects as go  # lazy: only the figure needs plotly

LEAK_WORDS: dict[str, frozenset[str]] = {
    "month": frozenset(
        "january february march april may june july august september october november december "
        "jan feb apr jun jul aug sep sept oct nov dec".split()
    ),
    "weekday": frozenset(
        "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri "
        "weekend weekday followfriday ff".split()
    ),
    "date": frozenset(
        "easter christmas xmas thanksgiving halloween memorial mothers mother's fathers father's "
        "graduation prom summer spring".split()
    ),
    "airline": frozenset(
        "airparadise paradise united delta american southwest jetblue virgin virginamerica usairways airtran "
        "continental northwest alaska spirit frontier hawaiian allegiant ryanair easyjet lufthansa klm "
        "britishairways emirates qantas aircanada westjet airfrance flybe bmi".split()
    ),
}
"""Single tokens (cleaned, lower case) that name a time or an airline. Some are also ordinary words
("may", "united", "spirit"): a flag asks a person to look, it does not prove a leak."""

_ORDINAL_RE = re.compile(r"^\d{1,2}(?:st|nd|rd|th)$")
OCCLUSION_SAMPLE = 300
"""Tweets sampled by default when the model is explained by occlusion (the linear method takes every tweet)."""
COLUMNS = ["direction", "rank", "token", "total_weight", "mean_weight", "count", "leak"]


def leak_category(token: str) -> str | None:
    """The leak category of a token: ``month``, ``weekday``, ``date`` (ordinal day, holiday, season),
    ``airline``, or ``None``."""
    key = token.lower().lstrip("#")
    if _ORDINAL_RE.match(key):
        return "date"
    return next((category for category, words in LEAK_WORDS.items() if key in words), None)


@dataclass(frozen=True)
class GlobalExplanation:
    """Top drivers of a model over a set of tweets.

    ``drivers`` has one row per top token and direction (columns :data:`COLUMNS`): ``total_weight``
    is its summed push over the tweets (logit units, > 0 towards negative), ``mean_weight`` its
    push per occurrence, ``count`` the tweets that contain it, ``leak`` its category or ``None``.
    """

    drivers: pd.DataFrame
    n_texts: int
    method: str

    @property
    def leaks(self) -> pd.DataFrame:
        """The top drivers that are date, month, weekday or airline-name tokens."""
        return self.drivers[self.drivers["leak"].notna()].reset_index(drop=True)

    @property
    def passed(self) -> bool:
        """Whether no top driver is a leak token."""
        return self.leaks.empty

    def summary(self) -> str:
        """One sentence on the leak check."""
        if self.passed:
            return (
                "Leak check passed: no date, month, weekday or airline token among the top drivers "
                f"({self.n_texts} tweets)."
            )
        found = ", ".join(f"'{r.token}' ({r.leak}, towards {r.direction})" for r in self.leaks.itertuples())
        return f"Leak check failed: {found} among the top drivers ({self.n_texts} tweets)."


def global_drivers(
    classifier: SentimentClassifier,
    texts: list[str],
    top_k: int = 15,
    max_texts: int | None = None,
    min_count: int = 3,
    seed: int = 0,
    rank_by: str = "total_weight",
) -> GlobalExplanation:
    """The tokens that push ``classifier`` hardest towards each class over ``texts`` (e.g. the test split).

    Args:
        classifier: the model to explain (exact weights for TF-IDF, occlusion otherwise).
        texts: raw tweets.
        top_k: drivers kept per direction.
        max_texts: explain a seeded sample of at most this many tweets. ``None``: every tweet for the
            exact (linear) method, :data:`OCCLUSION_SAMPLE` for occlusion, which scores one variant
            per token (about 1 s per tweet for a MiniLM BERT in PyTorch on 2 busy cores).
        min_count: ignore tokens found in fewer tweets than this (one-off words are noise).
        seed: sampling seed.
        rank_by: ``total_weight`` (what drives the predictions of the set: frequent words weigh more) or
            ``mean_weight`` (the strongest words per occurrence).

    Returns:
        The drivers and the leak check.

    Raises:
        ValueError: unknown ``rank_by``.
    """
    if rank_by not in ("total_weight", "mean_weight"):
        raise ValueError(f"rank_by must be total_weight or mean_weight, not '{rank_by}'.")
    texts = list(texts)
    explainer = explainer_for(classifier)
    if max_texts is None and explainer.method == "occlusion":
        max_texts = OCCLUSION_SAMPLE
    if max_texts is not None and len(texts) > max_texts:
        texts = random.Random(seed).sample(texts, max_texts)
    totals: dict[str, float] = defaultdict(float)
    occurrences: dict[str, int] = defaultdict(int)
    tweets: dict[str, int] = defaultdict(int)
    for explanation in explainer.explain_many(texts):
        seen = set()
        for token in explanation.tokens:
            key = clean_text(token.token) or token.token
            totals[key] += token.weight
            occurrences[key] += 1
            seen.add(key)
        for key in seen:
            tweets[key] += 1
    table = pd.DataFrame(
        {
            "token": list(totals),
            "total_weight": [totals[k] for k in totals],
            "mean_weight": [totals[k] / occurrences[k] for k in totals],
            "count": [tweets[k] for k in totals],
        }
    )
    table = table[table["count"] >= min_count]
    parts = []
    for direction, ascending in (("negative", False), ("positive", True)):
        pushing = table[table[rank_by] > 0] if direction == "negative" else table[table[rank_by] < 0]
        top = pushing.sort_values(rank_by, ascending=ascending).head(top_k).copy()
        top.insert(0, "direction", direction)
        top.insert(1, "rank", range(1, len(top) + 1))
        parts.append(top)
    drivers = pd.concat(parts, ignore_index=True)
    drivers["leak"] = [leak_category(t) for t in drivers["token"]]
    return GlobalExplanation(drivers[COLUMNS], len(texts), explainer.method)


def split_texts(config: PipelineConfig, part: str = "test") -> list[str]:
    """The raw tweets of one split part (``train``, ``val`` or ``test``) exactly as the pipeline split them.

    Args:
        config: the configuration the model was trained with (data file, row cap, split settings).
        part: which part.
    """
    frame = stratified_sample(load_sentiment140(config.data.path), config.data.max_rows, config.split.seed)
    split = split_data(frame, config.split)
    return getattr(split, part)["text"].tolist()


def drivers_figure(explanation: GlobalExplanation) -> go.Figure:
    """A horizontal bar chart of the top drivers: towards negative to the right (red), towards
    positive to the left (blue), leak tokens in orange and named in the title."""
    import plotly.graph_objects as go  # lazy: only the figure needs plotly

    frame = explanation.drivers.sort_values("total_weight")
    colours = [
        "#e67e00" if leak else ("#c0392b" if w > 0 else "#2e6db4")
        for leak, w in zip(frame["leak"], frame["total_weight"], strict=True)
    ]
    labels = [f"{t} ⚠ {leak}" if leak else t for t, leak in zip(frame["token"], frame["leak"], strict=True)]
    figure = go.Figure(
        go.Bar(
            x=frame["total_weight"],
            y=labels,
            orientation="h",
            marker_color=colours,
            customdata=frame[["count", "mean_weight"]].to_numpy(),
            hovertemplate="%{y}: total %{x:.2f}<br>in %{customdata[0]} tweets, "
            "%{customdata[1]:.3f} per occurrence<extra></extra>",
        )
    )
    check = "passed" if explanation.passed else f"FAILED ({', '.join(explanation.leaks['token'])})"
    figure.update_layout(
        title=f"Top drivers over {explanation.n_texts} tweets ({explanation.method}) — leak check {check}",
        xaxis_title="summed push in logit units (→ negative, ← positive)",
        yaxis={"dtick": 1},
        height=max(320, 22 * len(frame) + 120),
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
    )
    return figure
