"""Noise-robust training data: confident-learning cleanup and the date-balanced subset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import NoiseConfig
from core.data.label_noise import date_balanced_positions, label_issues, training_positions
from core.errors import ConfigError
from tests.fixtures import easy_rows


def test_cleanlab_flags_mostly_the_flipped_labels() -> None:
    rows = easy_rows(600, seed=5)
    texts = [text for _, text in rows]
    truth = np.array([1 if polarity == 0 else 0 for polarity, _ in rows])
    flipped = np.random.default_rng(0).choice(len(truth), size=60, replace=False)
    noisy = truth.copy()
    noisy[flipped] = 1 - noisy[flipped]
    issues = label_issues(texts, noisy, folds=3, seed=0)
    caught = issues[flipped].mean()
    precision = np.isin(np.flatnonzero(issues), flipped).mean()
    assert caught > 0.7 and precision > 0.7, (caught, precision)


def test_date_balanced_subset_has_equal_classes_each_day() -> None:
    dates = pd.Series(pd.to_datetime(["2009-04-06"] * 5 + ["2009-04-07"] * 4 + ["2009-06-01"] * 3))
    labels = np.array([1, 1, 1, 0, 0] + [1, 0, 0, 0] + [1, 1, 1])
    keep = date_balanced_positions(dates, labels, seed=0)
    kept = pd.DataFrame({"day": dates.iloc[keep].dt.date.to_numpy(), "label": labels[keep]})
    counts = kept.groupby(["day", "label"]).size().unstack(fill_value=0)
    assert len(keep) == 6 and (counts[0] == counts[1]).all()
    assert list(keep) == sorted(set(keep))
    # The same seed gives the same subset.
    assert list(date_balanced_positions(dates, labels, seed=0)) == list(keep)


def test_training_positions_combine_remedies_and_validate() -> None:
    labels = np.array([0, 1] * 10)
    dates = pd.Series(pd.to_datetime(["2009-05-01"] * 20))
    assert len(training_positions(NoiseConfig(), [], labels, dates, 0)) == 20
    assert len(training_positions(NoiseConfig(date_balanced=True), [], labels, dates, 0)) == 20
    try:
        NoiseConfig(label_cleanup="magic")
    except ConfigError as exc:
        assert "noise.label_cleanup" in str(exc)
    else:
        raise AssertionError("an unknown cleanup method must be refused")


def test_pipeline_fits_on_the_cleaned_training_split(plateau_session) -> None:
    runs = [r for r in plateau_session.result.runs if r.family == "tfidf"]
    n_train = plateau_session.result.runs[0].metrics["n_train_used"] + runs[0].metrics["n_train_noise_removed"]
    for run in runs:
        assert run.metrics["n_train_noise_removed"] > 0
        assert run.metrics["n_train_used"] + run.metrics["n_train_noise_removed"] == n_train


def _confidence_without_and_with_smoothing(make_model, n_rows: int, n_train: int, seed: int) -> dict[float, float]:
    """Mean |p - 0.5| on held-out easy tweets of a model trained with label smoothing 0 and 0.4,
    after checking that both still learn the easy task."""
    rows = easy_rows(n_rows, seed=seed)
    texts = [text for _, text in rows]
    labels = np.array([1 if polarity == 0 else 0 for polarity, _ in rows])
    extremes = {}
    for smoothing in (0.0, 0.4):
        model = make_model(smoothing)
        model.fit(texts[:n_train], labels[:n_train], texts[n_train:], labels[n_train:])
        p = model.predict_proba(texts[n_train:])
        assert np.mean((p >= 0.5) == labels[n_train:]) > 0.9, smoothing
        extremes[smoothing] = float(np.mean(np.abs(p - 0.5)))
    return extremes


def test_label_smoothing_keeps_keras_predictions_off_the_extremes() -> None:
    from core.config import KerasEmbeddingConfig
    from core.models.keras_embedding import KerasEmbeddingModel

    def make(smoothing: float) -> KerasEmbeddingModel:
        config = KerasEmbeddingConfig(epochs=6, patience=6, learning_rate=1e-2, label_smoothing=smoothing)
        return KerasEmbeddingModel(config, seed=0)

    extremes = _confidence_without_and_with_smoothing(make, 400, 300, seed=7)
    # Targets 0.8/0.2 instead of 1/0: the smoothed model is less confident.
    assert extremes[0.4] < extremes[0.0] - 0.05, extremes
    try:
        KerasEmbeddingConfig(label_smoothing=0.5)
    except ConfigError as exc:
        assert "label_smoothing" in str(exc)
    else:
        raise AssertionError("label_smoothing must stay below 0.5")


def test_label_smoothing_keeps_bert_predictions_off_the_extremes(tmp_path) -> None:
    from core.config import BertConfig
    from core.models.bert import BertModel
    from tests.models.tiny_bert import build_tiny_bert

    checkpoint = str(build_tiny_bert(tmp_path / "tiny_bert"))

    def make(smoothing: float) -> BertModel:
        config = BertConfig(
            checkpoint=checkpoint, max_length=24, batch_size=16, epochs=12, patience=12, learning_rate=3e-3,
            device="cpu", onnx_export=False, label_smoothing=smoothing,
        )  # fmt: skip
        return BertModel(config, seed=0)

    extremes = _confidence_without_and_with_smoothing(make, 240, 180, seed=11)
    assert extremes[0.4] < extremes[0.0] - 0.05, extremes
