"""Fixtures: the real API (Flask app) on the session's tiny trained MLflow store, with a known key."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from api import ApiSettings, create_app
from core.config import TrackingConfig
from tests.api.conftest import API_KEY, make_settings

KEY = {"X-API-Key": API_KEY}


@pytest.fixture
def api_settings(tracking: TrackingConfig, tmp_path: Path) -> ApiSettings:
    """Settings with the test key, a private event store, and no rate limit (fuzzing sends many requests)."""
    return make_settings(tracking, tmp_path / "feedback.db", rate_limit_per_minute=0)


@pytest.fixture
def app(api_settings: ApiSettings) -> Flask:
    return create_app(api_settings)


@pytest.fixture
def client(app: Flask):
    return app.test_client()
