"""PSI on constructed data with known values; per-period tables and figures on constructed events."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.monitoring.drift import SCORE_EDGES, Reference, psi, psi_level, quantile_edges
from core.monitoring.report import build_report, period_table


def test_psi_of_identical_distributions_is_zero() -> None:
    sample = np.linspace(0, 1, 1000, endpoint=False)
    assert psi(sample, sample.copy(), SCORE_EDGES) == 0.0


def test_psi_matches_the_formula_on_known_shares() -> None:
    # Two bins [0, 0.5) and [0.5, 1]: expected 50% / 50%, actual 25% / 75%.
    expected = np.array([0.1] * 50 + [0.9] * 50)
    actual = np.array([0.1] * 25 + [0.9] * 75)
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(expected, actual, np.array([0.0, 0.5, 1.0])) == pytest.approx(want, abs=1e-12)
    assert want == pytest.approx(0.2747, abs=1e-4)
    # Ten score bins: expected uniform, actual with 64% of scores in the top bin.
    uniform = (np.arange(1000) + 0.5) / 1000
    skewed = np.concatenate([np.repeat(np.arange(9) * 0.1 + 0.05, 40), np.full(640, 0.95)])
    shares = np.array([0.04] * 9 + [0.64])
    want = float(np.sum((shares - 0.1) * np.log(shares / 0.1)))
    assert psi(uniform, skewed, SCORE_EDGES) == pytest.approx(want, rel=1e-9)
    assert psi_level(want) == "alert"


def test_empty_bins_stay_finite_and_levels() -> None:
    value = psi(np.full(100, 0.05), np.full(100, 0.95), SCORE_EDGES)
    assert math.isfinite(value) and value > 5
    assert [psi_level(v) for v in (0.0, 0.099, 0.1, 0.2499, 0.25, float("nan"))] == [
        "stable",
        "stable",
        "warning",
        "warning",
        "alert",
        "n/a",
    ]


def test_quantile_edges_split_the_reference_in_tenths() -> None:
    lengths = np.arange(1, 1001)
    edges = quantile_edges(lengths)
    assert edges[0] == -np.inf and edges[-1] == np.inf and len(edges) == 11
    assert psi(lengths, lengths[::-1], edges) == 0.0
    assert psi(lengths, lengths + 500, edges) > 0.25  # every tweet 500 characters longer: major shift


def _events(day: str, n: int, p_negative: float, length: int, flagged: int, confirmed: int = 0) -> pd.DataFrame:
    labels = ["negative" if p_negative >= 0.5 else "positive"] * n
    wrong = "positive" if labels[0] == "negative" else "negative"
    correct = [wrong] * flagged + [labels[0]] * confirmed + [None] * (n - flagged - confirmed)
    return pd.DataFrame(
        {
            "created_at": pd.to_datetime([f"{day} 12:00:00"] * n, utc=True),
            "label": labels,
            "probability_negative": [p_negative] * n,
            "text_length": [length] * n,
            "correct_label": correct,
        }
    )


def test_period_tables_compute_each_column() -> None:
    reference = Reference(
        scores=np.array([0.2] * 100 + [0.8] * 100), lengths=np.array([40] * 100 + [80] * 100), source="constructed"
    )
    frame = pd.concat(
        [
            _events("2026-11-23", 60, 0.8, 40, flagged=3, confirmed=2),  # Monday, week 48
            _events("2026-11-23", 60, 0.2, 80, flagged=0),
            _events("2026-11-24", 100, 0.9, 200, flagged=10),  # only negatives, much longer tweets
            _events("2026-11-30", 10, 0.2, 40, flagged=1),  # Monday, week 49: too few for PSI
        ],
        ignore_index=True,
    )
    daily = period_table(frame, "day", reference).set_index("period")
    monday = daily.loc["2026-11-23"]
    assert monday["predictions"] == 120 and monday["share_negative"] == 0.5
    assert monday["mean_confidence"] == pytest.approx(0.8)
    assert (monday["feedback"], monday["flagged_errors"]) == (5, 3)
    assert monday["flagged_error_rate"] == pytest.approx(3 / 120)
    assert monday["psi_score"] == pytest.approx(0.0, abs=1e-12) and monday["drift"] == "stable"
    tuesday = daily.loc["2026-11-24"]
    assert tuesday["share_negative"] == 1.0 and tuesday["mean_confidence"] == pytest.approx(0.9)
    # All served scores in the top bin, where the reference has none (an empty bin counts as 1e-4),
    # and none in the two bins that hold the reference: PSI = (1 - e) ln(1 / e) + 2 (e - 0.5) ln(e / 0.5).
    e = 1e-4
    want = (1 - e) * math.log(1 / e) + 2 * (e - 0.5) * math.log(e / 0.5)
    assert tuesday["psi_score"] == pytest.approx(want, rel=1e-6) and tuesday["drift"] == "alert"
    assert math.isnan(daily.loc["2026-11-30"]["psi_score"]) and daily.loc["2026-11-30"]["drift"] == "n/a"

    weekly = period_table(frame, "week", reference).set_index("period")
    assert list(weekly.index) == ["2026-W48", "2026-W49"]
    assert weekly.loc["2026-W48", "predictions"] == 220 and weekly.loc["2026-W48", "flagged_errors"] == 13

    report = build_report(frame, reference)
    assert any("day 2026-11-24: PSI of prediction scores" in w for w in report.warnings)
    assert set(report.figures) == {f"{p}_{k}" for p in ("daily", "weekly") for k in ("volume", "quality", "drift")}
    drift_figure = report.figures["daily_drift"]
    assert list(drift_figure.data[0].x) == list(daily.index)
    assert drift_figure.data[0].y[1] == pytest.approx(tuesday["psi_score"])


def test_monitor_command_prints_tables_with_psi_against_the_champion(tracking, tmp_path, capsys) -> None:
    from core.cli import main
    from core.monitoring.event_store import EventStore, PredictionRecord, now_utc, text_hash
    from core.tracking.setup import resolve_tracking_uri

    store = EventStore.for_sqlite(tmp_path / "events.db")
    start = now_utc() - pd.Timedelta(days=2)
    records = []
    for i in range(240):  # two days of 120 events: the second all confidently negative, long tweets
        day = i // 120
        text = ("the flight was delayed " * (6 if day else 1)) + str(i)
        p = 0.97 if day else (i % 10) / 10 + 0.05
        label = "negative" if p >= 0.5 else "positive"
        created = (start + pd.Timedelta(days=day)).isoformat()
        records.append(PredictionRecord(f"e{i}", created, text, label, p, "m", "1", 1.0, text_hash(text), len(text)))
    store.record_predictions(records)
    out_dir = tmp_path / "report"
    code = main(
        [
            "monitor",
            "--store",
            store.url,
            "--tracking-uri",
            resolve_tracking_uri(tracking),
            "--output-dir",
            str(out_dir),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "240 prediction events; drift reference: validation split of air-paradise-sentiment" in out
    daily = pd.read_csv(out_dir / "daily.csv")
    assert list(daily["predictions"]) == [120, 120]
    assert daily["psi_score"][1] > 0.25 and daily["psi_length"][1] > 0.25 and daily["drift"][1] == "alert"
    assert "PSI of prediction scores" in out and (out_dir / "monitoring.html").stat().st_size > 100_000
