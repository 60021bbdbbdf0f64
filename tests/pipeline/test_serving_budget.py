"""The serving budget in the champion choice: each version's serving cost measured in a fresh process
at registration, what it needs checked against the API image, and the champion chosen among those
within budget; a version the image cannot load is never promoted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.config import ModelsConfig, PipelineConfig, ServingConfig
from core.errors import ConfigError, NotServableError
from core.serving.cost import measure_in_fresh_process, nearest_rank
from core.serving.image import image_distributions, missing_from_image
from core.tracking.comparison import comparison_table
from core.tracking.registry import alias_version, promote_best, scored_versions, set_alias
from core.tracking.setup import configure_tracking
from core.training.pipeline import run_pipeline
from tests.conftest import tiny_config

pytestmark = pytest.mark.slow

_MEASURED = ServingConfig(single_requests=30, batch_seconds=0.3)


def _config(small_csv: Path, store: Path, **tfidf: object) -> PipelineConfig:
    config = tiny_config(small_csv, store)
    return dataclasses.replace(
        config,
        preprocessing=("none", "stem"),
        models=dataclasses.replace(ModelsConfig(), tfidf=dataclasses.replace(config.models.tfidf, **tfidf)),
        serving=_MEASURED,
    )


@pytest.fixture(scope="module")
def store(small_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two sessions in one store: plain TF-IDF (servable) then TF-IDF with VADER lexicon features
    (needs ``vaderSentiment``, which the API image does not install)."""
    folder = tmp_path_factory.mktemp("budget")
    plain = run_pipeline(_config(small_csv, folder))
    lexicon = run_pipeline(_config(small_csv, folder, lexicon_features=True))
    return _config(small_csv, folder), plain, lexicon


def test_every_version_records_its_serving_cost_and_needs(store) -> None:
    config, plain, lexicon = store
    for run in lexicon.runs:  # the image cannot load them: never champion, so never measured
        assert "serving_p50_ms" not in run.metrics and "serving_rss_mb" not in run.metrics
    for run in [*plain.runs, *lexicon.runs]:
        tags = MlflowClient().get_model_version(config.tracking.registered_model, run.version).tags
        assert tags["serving_runtime"] == "native"
        assert set(tags["serving_requirements"].split(",")) >= {"scikit-learn", "joblib"}
    for run in plain.runs:
        metrics = run.metrics
        assert 0 < metrics["serving_p50_ms"] <= metrics["serving_p99_ms"]
        assert metrics["serving_tweets_per_s"] > 0
        assert 50 < metrics["serving_rss_mb"] < 1000  # the probe alone, not the pytest process it forks from
    lexicon_tags = MlflowClient().get_model_version(config.tracking.registered_model, lexicon.runs[0].version).tags
    assert lexicon_tags["api_image_servable"] == "false"
    assert lexicon_tags["api_image_missing"] == "vaderSentiment"


def test_the_champion_is_never_a_version_the_image_cannot_load(store) -> None:
    config, plain, lexicon = store
    configure_tracking(config.tracking)
    champion = alias_version(config.tracking)
    assert champion in {r.version for r in plain.runs}
    assert lexicon.champion is not None and lexicon.champion.version in {r.version for r in plain.runs}
    with pytest.raises(NotServableError, match="needs vaderSentiment, which the API image"):
        set_alias(config.tracking, lexicon.runs[0].version)
    assert alias_version(config.tracking) == champion
    set_alias(config.tracking, lexicon.runs[0].version, alias="challenger")  # other aliases are not served


def test_the_champion_is_the_best_version_within_the_latency_budget(store) -> None:
    config, _, _ = store
    configure_tracking(config.tracking)
    key = config.evaluation.selection_key
    servable = [v for v in scored_versions(config.tracking, key) if v.tags["api_image_servable"] == "true"]
    limit = nearest_rank([v.metrics["serving_p50_ms"] for v in servable], 50)
    within = [v for v in servable if v.metrics["serving_p50_ms"] <= limit]
    assert 0 < len(within) < len(servable) or len({v.metrics["serving_p50_ms"] for v in servable}) == 1
    budget = dataclasses.replace(_MEASURED, max_p50_ms=limit)
    best = max(within, key=lambda v: (v.score, -int(v.version)))
    assert promote_best(config.tracking, key, budget).version == best.version
    assert alias_version(config.tracking) == best.version
    table = comparison_table(config.tracking, serving=budget)
    verdicts = dict(zip(table["version"].astype(str), table["budget"], strict=True))
    assert all(verdicts[v.version] == "ok" for v in within)
    assert all(verdicts[v.version].startswith("p50") for v in servable if v not in within)
    assert all(
        "the API image lacks vaderSentiment" in verdicts[v] for v in verdicts if v not in {s.version for s in servable}
    )


def test_no_version_within_budget_leaves_the_champion_where_it_was(store) -> None:
    config, _, _ = store
    configure_tracking(config.tracking)
    before = alias_version(config.tracking)
    impossible = dataclasses.replace(_MEASURED, max_rss_mb=1.0)
    assert promote_best(config.tracking, config.evaluation.selection_key, impossible) is None
    assert alias_version(config.tracking) == before


def test_the_probe_measures_a_fresh_process(store, tmp_path: Path) -> None:
    _, plain, _ = store
    folder = plain.runs[0].classifier.save(tmp_path / "classifier")
    figures = measure_in_fresh_process(folder, ["late again", "lovely crew"], _MEASURED)
    assert figures["serving_runtime"] == "native"
    assert figures["serving_p50_ms"] > 0 and figures["serving_load_s"] > 0


def test_image_requirements_are_read_from_the_pinned_file(tmp_path: Path) -> None:
    names = image_distributions(ServingConfig().image_requirements)
    assert {"onnxruntime", "tokenizers", "scikit-learn", "joblib"} <= names
    assert not {"torch", "tensorflow", "keras"} & names
    assert missing_from_image(("onnxruntime", "tokenizers"), ServingConfig().image_requirements) == []
    assert missing_from_image(("tensorflow", "keras", "Scikit_Learn"), ServingConfig().image_requirements) == [
        "tensorflow",
        "keras",
    ]
    bad = tmp_path / "requirements.txt"
    bad.write_text("numpy==2.0\nthis is not a requirement\n")
    with pytest.raises(ConfigError, match="line 2: not a requirement"):
        image_distributions(bad)
