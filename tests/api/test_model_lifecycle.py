"""Starting without a model, reloading to a newly promoted champion, failed reloads."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from api import create_app
from core.config import TrackingConfig
from core.tracking.registry import alias_version, set_alias
from tests.api.conftest import API_KEY, make_settings

KEY = {"X-API-Key": API_KEY}


def test_empty_store_starts_and_reports_503(tmp_path) -> None:
    tracking = TrackingConfig(tracking_uri=f"sqlite:///{tmp_path}/empty.db")
    client = create_app(make_settings(tracking, tmp_path / "f.db")).test_client()
    assert client.get("/health").status_code == 200
    for response in (client.get("/ready"), client.post("/predict", json={"text": "hi"}), client.get("/model")):
        assert response.status_code == 503
        assert response.get_json()["error"].startswith(
            "No model is loaded: Cannot load models:/air-paradise-sentiment@champion"
        )
    reload = client.post("/model/reload", headers=KEY)
    assert reload.status_code == 503 and reload.get_json()["error"].startswith("Reload failed: Cannot load")


def test_reload_switches_to_newly_promoted_version(client, trained, tracking) -> None:
    _, result = trained
    original = alias_version(tracking)
    other = next(r.version for r in result.runs if r.version != original)
    held = client.application.extensions["sentiment_api"].holder.current()  # a request "in flight"
    try:
        set_alias(tracking, other)
        assert client.get("/model").get_json()["version"] == original  # no reload yet: old model served
        response = client.post("/model/reload", headers=KEY)
        assert response.status_code == 200
        assert response.get_json() == {
            "status": "reloaded",
            "previous_version": original,
            "model": {"name": "air-paradise-sentiment", "version": other},
        }
        assert client.get("/model").get_json()["version"] == other
        assert client.post("/predict", json={"text": "great"}).get_json()["model"]["version"] == other
        assert held.version == original and held.predict(["bad flight"])[0].label in ("negative", "positive")
    finally:
        set_alias(tracking, original)


def test_failed_reload_keeps_the_old_model(client, tracking) -> None:
    original = alias_version(tracking)
    MlflowClient().delete_registered_model_alias(tracking.registered_model, tracking.champion_alias)
    try:
        response = client.post("/model/reload", headers=KEY)
        assert response.status_code == 503
        assert response.get_json()["error"].endswith(f"Still serving version {original}.")
        assert client.get("/ready").status_code == 200
        assert client.post("/predict", json={"text": "hi"}).get_json()["model"]["version"] == original
    finally:
        set_alias(tracking, original)


def test_pinned_version_is_served(trained, tracking, tmp_path) -> None:
    _, result = trained
    version = result.runs[-1].version
    client = create_app(make_settings(tracking, tmp_path / "f.db", model_version=version)).test_client()
    assert client.get("/model").get_json()["version"] == version
