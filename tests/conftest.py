"""Shared fixtures: a small real-data CSV, a tiny config on a temporary SQLite MLflow store,
and one tiny pipeline run reused by the tests that inspect its results."""

from __future__ import annotations

import os

# huggingface_hub reads this once, when first imported (during collection): set it before.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import dataclasses
from pathlib import Path

import pytest

from core.config import DEFAULT_DATA_PATH, DEFAULT_NLTK_DATA, PipelineConfig, TrackingConfig, get_profile

FIXTURE_MARKERS = {"browser": "browser", "postgres": "postgres"}
"""A test that uses one of these fixtures (directly or through another fixture) gets the marker."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that need a browser or PostgreSQL from the fixtures they use."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in used:
                item.add_marker(marker)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """No ambient tracking URI when a test's fixtures start, the module- and session-wide ones included.

    ``mlflow.set_tracking_uri`` exports ``MLFLOW_TRACKING_URI``; ``monkeypatch.delenv`` of an unset
    variable records nothing to restore, so a test that set it would hand it to the next test's
    module fixtures, which would then train into another test's store.
    """
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub, NLTK data from the shared folder (no ambient tracking server: :func:`pytest_runtest_setup`)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("NLTK_DATA", str(DEFAULT_NLTK_DATA))


def write_subset(source: Path, target: Path, every: int) -> Path:
    """Copy every ``every``-th raw line of ``source`` (both classes, original bytes)."""
    lines = source.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[::every]))
    return target


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 2,000 real tweets of both classes in the original format."""
    return write_subset(DEFAULT_DATA_PATH, tmp_path_factory.mktemp("data") / "small.csv", every=30)


def tiny_config(data_path: Path, store: Path) -> PipelineConfig:
    """The tiny profile on ``data_path``, tracking into a SQLite store under ``store``."""
    config = get_profile("tiny")
    return dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, path=data_path, max_rows=None),
        tracking=TrackingConfig(store_dir=store / ".mlflow"),
        cache_dir=store / ".cache",
        reports_dir=store / "reports",
    )


@pytest.fixture(scope="session")
def trained(small_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    """One real tiny pipeline run (TF-IDF x 3 preprocessing variants) into a fresh SQLite store."""
    from core.training.pipeline import run_pipeline

    config = tiny_config(small_csv, tmp_path_factory.mktemp("store"))
    result = run_pipeline(config)
    return config, result


@pytest.fixture
def tracking(trained):
    """Re-point MLflow at the session's tiny store (other tests may have moved it)."""
    from core.tracking.setup import configure_tracking

    config, _ = trained
    configure_tracking(config.tracking)
    return config.tracking


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on loopback for the whole session (see tests/postgres_server.py)."""
    from tests.postgres_server import postgres_server

    with postgres_server() as server:
        yield server
