"""The real training entry point on a tiny fixture, into a real SQLite MLflow store."""

from __future__ import annotations

import subprocess
import sys

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from core.config import PROJECT_ROOT
from core.data.loading import file_sha256
from core.data.prepared import prepare_data
from core.errors import ModelNotFoundError
from core.evaluation.metrics import choose_threshold
from core.models.classifier import SentimentClassifier
from core.serving.predictor import Predictor
from core.tracking.comparison import comparison_table, write_table
from core.tracking.registry import alias_version, model_uri, promote_best, set_alias

EXPECTED_METRICS = {
    f"{part}_{m}"
    for part in ("val", "test", "ood", "human_select", "human_report")
    for m in ("accuracy", "f1_negative", "roc_auc", "pr_auc")
} | {"train_time_s", "inference_s_per_1000", "model_size_mb", "threshold", "selection_score"}


def test_one_run_per_variant_with_params_metrics_tags(trained, tracking) -> None:
    config, result = trained
    assert {(r.family, r.preprocessing) for r in result.runs} == {
        ("tfidf", "none"),
        ("tfidf", "lemmatize"),
        ("tfidf", "stem"),
    }
    client = MlflowClient()
    for r in result.runs:
        run = client.get_run(r.run_id)
        assert run.info.status == "FINISHED"
        assert EXPECTED_METRICS <= set(run.data.metrics)
        assert run.data.metrics["val_roc_auc"] > 0.6 and run.data.metrics["ood_roc_auc"] > 0.55
        assert run.data.metrics["train_time_s"] > 0 and run.data.metrics["inference_s_per_1000"] > 0
        params = run.data.params
        assert params["family"] == "tfidf" and params["preprocessing"] == r.preprocessing
        assert params["split.seed"] == "42" and params["evaluation.selection_metric"] == "roc_auc"
        assert params["evaluation.selection_part"] == "human_select" == params["calibration.fit_on"]
        assert params["models.tfidf.C"] == str(config.models.tfidf.C)
        tags = run.data.tags
        assert tags["data_sha256"] == file_sha256(config.data.path)
        assert tags["preprocessing"] == r.preprocessing and tags["split_seed"] == "42"
        assert len(tags["git_commit"]) == 40 or tags["git_commit"] == "unknown"


def test_model_is_logged_with_signature(trained, tracking) -> None:
    _, result = trained
    info = mlflow.models.get_model_info(model_uri(tracking, version=result.runs[0].version))
    assert [c.type.name for c in info.signature.inputs.inputs] == ["string"]
    assert [c.name for c in info.signature.outputs.inputs] == ["label", "probability_negative"]


def test_champion_is_best_on_human_select(trained, tracking) -> None:
    _, result = trained
    best = max(result.runs, key=lambda r: (r.metrics["human_select_roc_auc"], -int(r.version)))
    assert result.champion.version == best.version
    assert alias_version(tracking) == best.version


def test_alias_promotion_moves_and_refuses_unknown_versions(trained, tracking) -> None:
    _, result = trained
    other = next(r.version for r in result.runs if r.version != result.champion.version)
    set_alias(tracking, other)
    assert alias_version(tracking) == other
    with pytest.raises(ModelNotFoundError, match="no version 999"):
        set_alias(tracking, "999")
    promote_best(tracking, "human_select_roc_auc")
    assert alias_version(tracking) == result.champion.version


def test_pyfunc_round_trip_on_raw_text(trained, tracking) -> None:
    config, result = trained
    raw = [
        "My flight was delayed AGAIN &amp; they lost my bag!!! http://t.co/x",
        "@AirParadise loved the crew, thank you :)",
        "meh",
    ]
    loaded = mlflow.pyfunc.load_model(model_uri(tracking))
    out = loaded.predict(raw)
    assert list(out.columns) == ["label", "probability_negative"] and len(out) == 3
    local = mlflow.artifacts.download_artifacts(f"{model_uri(tracking)}")
    classifier = SentimentClassifier.load(f"{local}/artifacts/classifier")
    np.testing.assert_allclose(out["probability_negative"], classifier.predict_proba(raw))
    assert out["label"].tolist() == classifier.labels(out["probability_negative"].to_numpy())
    assert out["label"][0] == "negative"


def test_nothing_fitted_on_validation_or_test(trained, tracking) -> None:
    config, result = trained
    data = prepare_data(config)
    champion = next(r for r in result.runs if r.version == result.champion.version)
    local = mlflow.artifacts.download_artifacts(model_uri(tracking))
    classifier = SentimentClassifier.load(f"{local}/artifacts/classifier")
    texts = data.processed(classifier.preprocessor)
    # Threshold: exactly the one that the human-labelled select part (not test, not report) selects.
    select = data.human_part("select")
    select_p = classifier.model.predict_proba([texts["human"][i] for i in select.index])
    assert classifier.threshold == choose_threshold(select["label"].to_numpy(), select_p)
    assert champion.metrics["threshold"] == classifier.threshold
    # Vocabulary: every unigram was seen in train; tokens only in val/test are unknown.
    from core.data.preprocessing import tokenize

    seen = {tok for t in texts["train"] for tok in tokenize(t)}
    held_out_only = {tok for t in texts["val"] + texts["test"] for tok in tokenize(t)} - seen
    unigrams = {v for v in classifier.model.vocabulary() if " " not in v}
    assert held_out_only and unigrams <= seen and not unigrams & held_out_only


def test_predictor_and_comparison(trained, tracking, tmp_path) -> None:
    _, result = trained
    predictions = Predictor(tracking).predict(
        ["my flight was delayed again, lost my bag", "what a great flight, thanks"]
    )
    assert [p.label for p in predictions] == ["negative", "positive"]
    table = comparison_table(tracking)
    assert len(table) == 3 and set(table["preprocessing"]) == {"none", "lemmatize", "stem"}
    assert table["human_select_roc_auc"].is_monotonic_decreasing
    assert {"human_report_roc_auc", "human_report_tweeteval_roc_auc", "val_roc_auc", "ood_roc_auc"} <= set(table)
    assert table.loc[table["champion"] == "*", "version"].astype(str).tolist() == [alias_version(tracking)]
    csv_path, md_path = write_table(table, tmp_path)
    assert csv_path.read_text().count("\n") == 4 and "| tfidf" in md_path.read_text()


def test_cli_predict_and_compare(trained, tracking, tmp_path) -> None:
    config, _ = trained
    uri = mlflow.get_tracking_uri()
    cmd = [sys.executable, "-m", "core"]
    proc = subprocess.run(
        [*cmd, "predict", "my flight was delayed again, lost my bag", "--tracking-uri", uri],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    label, probability, _ = proc.stdout.strip().split("\t")
    assert label == "negative" and 0.5 < float(probability) <= 1
    proc = subprocess.run(
        [*cmd, "compare", "--tracking-uri", uri, "--output-dir", str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("| tfidf-") == 3 and (tmp_path / "comparison.csv").exists()


def test_missing_champion_is_a_clear_error(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "core", "predict", "hello", "--tracking-uri", f"sqlite:///{tmp_path}/empty.db"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: Cannot load models:/air-paradise-sentiment@champion")


def test_experiment_created_by_another_process_first_is_not_an_error(tmp_path) -> None:
    """The API and a training starting together on a fresh store both try to create the experiment."""
    from mlflow.tracking import MlflowClient

    from core.config import TrackingConfig
    from core.tracking.setup import _create_experiment_once, configure_tracking

    uri = configure_tracking(TrackingConfig(store_dir=tmp_path / ".mlflow", experiment="race"))
    client = MlflowClient(tracking_uri=uri)
    _create_experiment_once(client, "race", None)  # lost the race: the experiment exists already
    assert [e.name for e in client.search_experiments() if e.name == "race"] == ["race"]


def test_a_tie_on_the_selection_metric_keeps_the_older_version(trained, tracking) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    _, result = trained
    champion = next(r for r in result.runs if r.version == result.champion.version)
    client = MlflowClient()
    source = client.get_model_version(tracking.registered_model, champion.version).source
    with mlflow.start_run(run_name="twin") as run:  # same score, newer version
        mlflow.log_metric("human_select_roc_auc", champion.metrics["human_select_roc_auc"])
    twin = client.create_model_version(tracking.registered_model, source, run_id=run.info.run_id).version
    try:
        assert int(twin) > int(champion.version)
        assert promote_best(tracking, "human_select_roc_auc").version == champion.version
    finally:
        client.delete_model_version(tracking.registered_model, twin)
        client.delete_run(run.info.run_id)
