"""What the ablation scripts share: the human-yardstick columns and a mean ± sd table over seeds."""

from __future__ import annotations

import math
import statistics

HUMAN_AUCS = (
    "human_report_roc_auc",
    "human_report_tweeteval_roc_auc",
    "human_report_sts_gold_roc_auc",
    "human_select_roc_auc",
    "test_roc_auc",
)
"""ROC AUC on human ``report`` (all, then per set), human ``select`` and test."""


def summary(values: list[float]) -> str:
    """``mean ± sd`` over seeds (the value alone for one seed; ``-`` when not measured)."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def print_table(
    title: str, seeds: list[int], rows: dict[str, list[dict[str, float]]], columns: tuple[str, ...]
) -> None:
    """One line per row name: each column's :func:`summary` over that row's seeds."""
    header = f"{title:<32}" + "".join(f"{name.removesuffix('_roc_auc'):>26}" for name in columns)
    print(f"\n{len(seeds)} seed(s): {', '.join(map(str, seeds))}\n{header}\n{'-' * len(header)}")
    for name, runs in rows.items():
        cells = [summary([run.get(column, math.nan) for run in runs]) for column in columns]
        print(f"{name:<32}" + "".join(f"{cell:>26}" for cell in cells))
