"""Fixtures: the real API (Flask test client) on the session's tiny trained MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import ApiSettings, create_app
from core.config import TrackingConfig

API_KEY = "test-secret-key-123"


def make_settings(tracking: TrackingConfig, db: Path, **overrides) -> ApiSettings:
    """API settings on ``tracking`` with a feedback DB at ``db`` and the test API key."""
    return ApiSettings(tracking=tracking, api_key=API_KEY, feedback_db=db, **overrides)


@pytest.fixture
def api_settings(tracking: TrackingConfig, tmp_path: Path) -> ApiSettings:
    return make_settings(tracking, tmp_path / "feedback.db")


@pytest.fixture
def app(api_settings: ApiSettings) -> Flask:
    return create_app(api_settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
