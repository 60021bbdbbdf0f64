"""The ensemble: weights chosen on the human-labelled select part (or, on request, with
out-of-domain tweets in view), one registered pyfunc that serves like any single model, its cost
and its cross-fitted estimate logged."""

from __future__ import annotations

import dataclasses

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from core.errors import ConfigError
from core.models.classifier import SentimentClassifier
from core.models.ensemble import combine
from core.serving.predictor import Predictor
from core.tracking.registry import model_uri
from core.tracking.setup import configure_tracking
from core.training.ensemble import (
    candidate_weights,
    check_members,
    choose_weights,
    choose_weights_on_folds,
    kept_members,
    select_members,
)
from core.training.pipeline import run_pipeline
from tests.conftest import tiny_config


def test_combine_is_a_weighted_logit_mean() -> None:
    a, b = np.array([0.9, 0.2]), np.array([0.5, 0.5])
    np.testing.assert_allclose(combine([a, b], np.array([1.0, 0.0])), a)
    np.testing.assert_allclose(combine([a, a], np.array([0.3, 0.7])), a)
    assert combine([a, b], np.array([1.0, 1.0]))[0] == pytest.approx(0.75)  # logit(.9)/2 -> 0.75


def test_weights_follow_the_out_of_domain_half_when_asked() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    in_domain_expert = np.clip(y * 0.6 + rng.random(400) * 0.4, 0, 1)  # perfect in domain
    generalist = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    useless_ood = rng.random(400)
    val = [in_domain_expert, generalist]
    ood = [useless_ood, generalist]  # the expert falls apart out of domain
    w_val, _ = choose_weights(val, y, ood, y, ood_weight=0.0, n_random=50, seed=0)
    w_ood, chosen = choose_weights(val, y, ood, y, ood_weight=0.5, n_random=50, seed=0)
    assert w_val[0] > 0.9 and w_ood[1] > w_val[1]
    assert w_ood.sum() == pytest.approx(1.0) and chosen["ood_select_roc_auc"] > 0.6


def test_weights_on_human_select_keep_the_average_unless_clearly_beaten() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1_200)
    strata = np.where(rng.random(1_200) < 0.5, "a", "b").astype(object) + "/" + y.astype(str)
    twin_a, twin_b = (np.clip(y * 0.35 + rng.random(1_200) * 0.65, 0, 1) for _ in range(2))
    weights, facts = choose_weights_on_folds([twin_a, twin_b], y, strata, n_random=100, k=5, seed=0)
    assert weights.tolist() == [0.5, 0.5]  # equal members: no candidate is clearly better than averaging
    strong, noise = np.clip(y * 0.6 + rng.random(1_200) * 0.4, 0, 1), rng.random(1_200)
    weights, facts = choose_weights_on_folds([strong, noise], y, strata, n_random=100, k=5, seed=0)
    assert weights[0] > 0.8 and facts["crossfit_roc_auc"] > facts["average_crossfit_roc_auc"]
    assert 0.5 < facts["crossfit_roc_auc"] <= facts["fold_mean_roc_auc"] + 0.01


def test_top_k_averages_rescue_two_good_members_among_weak_ones() -> None:
    """Two informative members and four noisy ones: the plain average of all six is diluted, and the
    average of the two best (ranked on the part) is one of the few simple candidates that finds them."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1_500)
    strata = y.copy()
    good = [np.clip(y * 0.3 + rng.random(1_500) * 0.7, 0, 1) for _ in range(2)]
    weak = [np.clip(y * 0.08 + rng.random(1_500) * 0.92, 0, 1) for _ in range(4)]
    candidates = candidate_weights(6, 0, seed=0, ranking=[1, 0, 2, 3, 4, 5])
    assert candidates.shape == (1 + 6 + 4, 6)  # the average, each member, the best 2..5
    np.testing.assert_allclose(candidates[7], [0.5, 0.5, 0, 0, 0, 0])
    weights, facts = choose_weights_on_folds([*good, *weak], y, strata, n_random=0, k=5, seed=0)
    np.testing.assert_allclose(weights, [0.5, 0.5, 0, 0, 0, 0])
    assert facts["crossfit_roc_auc"] > facts["average_crossfit_roc_auc"] + 0.01
    plain, _ = choose_weights_on_folds([*good, *weak], y, strata, n_random=0, k=5, seed=0, top_k_averages=False)
    assert plain.tolist() != weights.tolist()


def test_negligible_members_are_dropped_but_two_always_stay() -> None:
    assert kept_members(np.array([0.6, 0.02, 0.38]), 0.05).tolist() == [True, False, True]
    assert kept_members(np.array([0.97, 0.02, 0.01]), 0.05).tolist() == [True, True, False]
    assert kept_members(np.array([0.5, 0.01, 0.49]), 0.0).all()


def test_ensemble_run_is_registered_served_and_costed(plateau_session) -> None:
    config, result = plateau_session.config, plateau_session.result
    ensemble = next(r for r in result.runs if r.family == "ensemble")
    members = [r for r in result.runs if r.family == "tfidf"]
    metrics = ensemble.metrics
    assert sum(v for k, v in metrics.items() if k.startswith("ensemble_weight_")) == pytest.approx(1.0)
    for key in ("test_roc_auc", "ood_roc_auc", "human_report_roc_auc", "ensemble_select_crossfit_roc_auc", "test_ece"):
        assert 0.0 <= metrics[key] <= 1.0, key
    for member in members:  # each candidate's human-select AUC is logged beside the weights
        assert 0.5 < metrics[f"member_tfidf-{member.preprocessing}_human_select_roc_auc"] <= 1.0
    assert metrics["model_size_mb"] > max(r.metrics["model_size_mb"] for r in members) * 0.99
    assert metrics["inference_s_per_1000"] > 0 and metrics["behaviour_overall"] >= 0
    # Loose: on ~2k real tweets the ensemble is not worse than its weakest member.
    assert metrics["test_roc_auc"] >= min(r.metrics["test_roc_auc"] for r in members) - 0.01
    configure_tracking(config.tracking)
    version = MlflowClient().get_model_version(config.tracking.registered_model, ensemble.version)
    assert version.tags["family"] == "ensemble"
    texts = ["they lost my luggage again", "lovely crew, thanks!", "@AirParadise delayed 3 hours http://t.co/x"]
    served = mlflow.pyfunc.load_model(model_uri(config.tracking, version=ensemble.version)).predict(texts)
    np.testing.assert_allclose(served["probability_negative"], ensemble.classifier.predict_proba(texts), rtol=1e-6)
    predictor = Predictor(config.tracking, version=ensemble.version)
    assert predictor.info.family == "ensemble"
    assert [p.label for p in predictor.predict(texts)] == served["label"].tolist()


def test_saved_ensemble_holds_its_members(plateau_session, tmp_path) -> None:
    ensemble = next(r for r in plateau_session.result.runs if r.family == "ensemble").classifier
    folder = ensemble.save(tmp_path / "ens")
    assert sorted(p.name for p in (folder / "model").iterdir()) == ["ensemble.json", "member_0", "member_1"]
    loaded = SentimentClassifier.load(folder)
    assert loaded.family == "ensemble" and loaded.model.names == ensemble.model.names
    np.testing.assert_allclose(loaded.predict_proba(["worst flight"]), ensemble.predict_proba(["worst flight"]))


def test_member_selection_errors(plateau_session) -> None:
    runs = plateau_session.result.runs
    with pytest.raises(ConfigError, match="no run named"):
        select_members(runs, ("bert-none",))
    with pytest.raises(ConfigError, match="at least two"):
        select_members(runs, ("tfidf-none",))
    assert [f"{r.family}-{r.preprocessing}" for r in select_members(runs, ())] == ["tfidf-none", "tfidf-stem"]
    assert dataclasses.replace(plateau_session.config.ensemble, members=("tfidf-stem",)).members == ("tfidf-stem",)


def test_pipeline_refuses_unknown_members_before_training(small_csv, tmp_path) -> None:
    with pytest.raises(ConfigError, match="no run named bert-none"):
        check_members(("bert-none",), ["tfidf-none", "tfidf-stem"])
    with pytest.raises(ConfigError, match="at least two"):
        check_members((), ["tfidf-none"])
    config = tiny_config(small_csv, tmp_path)
    config = dataclasses.replace(config, ensemble=dataclasses.replace(config.ensemble, enabled=True, members=("x-y",)))
    with pytest.raises(ConfigError, match="no run named x-y"):
        run_pipeline(config)
    assert not config.tracking.store_dir.exists()  # refused before the store was even opened: nothing trained
