"""Model page on the session's tiny trained store: details, worst errors, links to the MLflow UI,
promotion with a confirmation that moves the registry's champion alias, and, when the console knows
the API, the reload of a real API served by gunicorn on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.tracking.registry import alias_version, set_alias
from tests.console.conftest import open_console
from tests.harness import request, serving_api

API_KEY = "console-test-key"


@pytest.fixture
def model_page(trained_uri: str, monkeypatch: pytest.MonkeyPatch):
    return open_console(monkeypatch, trained_uri, "Model")


def test_champion_details_and_worst_errors(trained, model_page) -> None:
    config, result = trained
    champion = result.champion.version
    assert model_page.selectbox(key="version").value == champion
    run = next(r for r in result.runs if r.version == champion)
    metrics = {m.label: m.value for m in model_page.metric}
    assert metrics["val roc_auc"] == f"{run.metrics['val_roc_auc']:.4f}"
    assert metrics["human select roc_auc"] == f"{run.metrics['human_select_roc_auc']:.4f}"
    assert metrics["human report roc_auc"] == f"{run.metrics['human_report_roc_auc']:.4f}"
    sets = next(d.value for d in model_page.dataframe if "set" in d.value.columns)
    assert sorted(zip(sets["part"], sets["set"], strict=True)) == [
        ("report", "sts_gold"),
        ("report", "tweeteval"),
        ("select", "sts_gold"),
        ("select", "tweeteval"),
    ]
    report = sets[(sets["part"] == "report") & (sets["set"] == "tweeteval")].iloc[0]
    assert report["roc_auc"] == pytest.approx(run.metrics["human_report_tweeteval_roc_auc"])
    assert metrics["threshold on P(negative)"] == f"{run.metrics['threshold']:.4f}"
    assert metrics["size (MB)"] == f"{run.metrics['model_size_mb']:.2f}"
    assert model_page.success[0].value.startswith(f"v{champion} is the `champion`")
    serving = next(c.value for c in model_page.caption if c.value.startswith("Served on"))
    assert serving == "Served on `native`, needs scikit-learn,joblib; within the serving budget."
    assert metrics["one tweet p50 (ms)"] == "–"  # the tiny profile does not measure the serving cost
    # TF-IDF fits in one pass: no learning curve (tests/console/test_learning_curve.py has the neural ones).
    assert "learning_curve" not in {chart.key for chart in model_page.get("plotly_chart")}
    assert any(c.value.startswith("No learning curve logged for this tfidf run") for c in model_page.caption)
    assert not model_page.get("markdown") or all("Open in MLflow" not in m.value for m in model_page.markdown)

    tables = {tuple(d.value.columns): d.value for d in model_page.dataframe}
    params = tables[("parameter", "value")].set_index("parameter")["value"]
    assert params["family"] == "tfidf" and params["models.tfidf.C"] == str(config.models.tfidf.C)
    signature = model_page.code[0].value.replace('"', "'")
    assert "inputs:  [string" in signature
    assert "'label': string" in signature and "'probability_negative': double" in signature

    errors = tables[("text", "true", "predicted", "p_negative")]
    assert 0 < len(errors) <= 20
    assert (errors["true"] != errors["predicted"]).all()
    distance = (errors["p_negative"] - (errors["true"] == "negative")).abs()
    assert list(distance) == sorted(distance, reverse=True)  # most confident mistakes first
    threshold = run.metrics["threshold"]
    wrong_side = (errors["p_negative"] < threshold) == (errors["true"] == "negative")
    assert wrong_side.all()  # each one is on the wrong side of the run's own threshold


def test_promotion_asks_for_confirmation_then_moves_the_alias(trained, model_page) -> None:
    config, result = trained
    other = next(r.version for r in result.runs if r.version != result.champion.version)
    model_page.selectbox(key="version").set_value(other).run()
    model_page.button(key="promote").click().run()
    assert "Make v" in model_page.warning[0].value
    model_page.button(key="cancel_promote").click().run()
    assert alias_version(config.tracking) == result.champion.version  # cancelled: nothing moved

    model_page.button(key="promote").click().run()
    model_page.button(key="confirm_promote").click().run()
    try:
        assert not model_page.exception
        assert alias_version(config.tracking) == other
        champion = MlflowClient().get_model_version_by_alias(config.tracking.registered_model, "champion")
        assert str(champion.version) == other
        assert model_page.success[0].value == (
            f"v{other} is now the champion. Call the API's POST /model/reload to serve it."  # no API known
        )
        assert "· champion" in model_page.selectbox(key="version").format_func(other)
    finally:  # the session's store is shared: leave the champion as the other tests expect it
        set_alias(config.tracking, result.champion.version)


def test_what_the_champion_keys_on_with_the_leak_check(trained, model_page) -> None:
    from core.explanations.drivers import global_drivers
    from core.serving.predictor import Predictor
    from core.tracking.diagnostics import load_test_predictions

    config, result = trained
    tables = {tuple(d.value.columns): d.value for d in model_page.dataframe}
    shown = tables[("direction", "rank", "token", "total_weight", "mean_weight", "count", "leak")]
    assert set(shown["direction"]) == {"negative", "positive"}
    assert (shown.loc[shown["direction"] == "negative", "total_weight"] > 0).all()
    # The same drivers as core computes over the run's test tweets (exact TF-IDF weights).
    texts = load_test_predictions(result.champion.run_id)["text"].tolist()
    classifier = Predictor(config.tracking, version=result.champion.version).classifier
    expected = global_drivers(classifier, texts)
    assert shown["token"].tolist() == expected.drivers["token"].tolist()
    verdicts = [e.value for e in (*model_page.success, *model_page.error) if "Leak check" in e.value]
    assert verdicts == [expected.summary()]
    assert len(model_page.get("plotly_chart")) == 1


def test_the_version_and_its_run_link_to_the_mlflow_ui(
    trained, trained_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, result = trained
    monkeypatch.setenv("CONSOLE_MLFLOW_URL", "http://127.0.0.1:5999")
    page = open_console(monkeypatch, trained_uri, "Model")
    version = page.selectbox(key="version").value
    run_id = next(r.run_id for r in result.runs if r.version == version)
    experiment = MlflowClient().get_run(run_id).info.experiment_id
    name = config.tracking.registered_model
    links = [m.value for m in page.markdown if m.value.startswith("Open in MLflow")]
    assert links == [
        f"Open in MLflow: [v{version} of {name}](http://127.0.0.1:5999/#/models/{name}/versions/{version})"
        f" · [run {run_id[:8]}](http://127.0.0.1:5999/#/experiments/{experiment}/runs/{run_id})"
    ]


def promote(page, version: str) -> None:
    """Select ``version``, click Promote, then confirm."""
    page.selectbox(key="version").set_value(version).run()
    page.button(key="promote").click().run()
    page.button(key="confirm_promote").click().run()
    assert not page.exception, page.exception


@pytest.mark.slow  # starts a server (see the markers in pyproject.toml)
def test_promotion_reloads_the_api_and_shows_what_it_serves(
    trained, trained_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, result = trained
    champion = result.champion.version
    other = next(r for r in result.runs if r.version != champion)
    env = {**os.environ, "MLFLOW_TRACKING_URI": trained_uri, "API_KEY": API_KEY}
    env["API_FEEDBACK_DB"] = str(tmp_path / "feedback.db")
    with serving_api(env, tmp_path / "api.log", threads=2) as (base, _):
        assert request(f"{base}/model")[1]["version"] == champion
        monkeypatch.setenv("CONSOLE_API_URL", base)
        monkeypatch.setenv("CONSOLE_API_KEY", API_KEY)
        page = open_console(monkeypatch, trained_uri, "Model")
        try:
            page.selectbox(key="version").set_value(other.version).run()
            page.button(key="promote").click().run()
            assert page.warning[0].value.endswith(f"The console then reloads the API at {base}.")
            page.button(key="confirm_promote").click().run()
            assert not page.exception, page.exception
            status, served = request(f"{base}/model")
            assert status == 200 and served["version"] == other.version  # the API switched, without a restart
            assert served["family"] == "tfidf" and served["preprocessing"] == other.preprocessing
            assert page.success[0].value == (
                f"v{other.version} is now the champion. The API at {base} reloaded and now serves "
                f"{config.tracking.registered_model} v{other.version} (tfidf / {other.preprocessing}, "
                f"runtime {served['runtime']})."
            )

            # A wrong key: the alias moves, the API refuses to reload and keeps serving the previous version.
            monkeypatch.setenv("CONSOLE_API_KEY", "not-the-key")
            promote(page, champion)
            assert alias_version(config.tracking) == champion
            assert request(f"{base}/model")[1]["version"] == other.version
            assert page.warning[0].value == (
                f"v{champion} is now the champion. The API did not reload (POST {base}/model/reload answered "
                "401: A valid API key is required in the X-API-Key header.); call its POST /model/reload to serve it."
            )
        finally:  # the session's store is shared: leave the champion as the other tests expect it
            set_alias(config.tracking, champion)
