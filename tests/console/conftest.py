"""Console fixtures: the app under streamlit's AppTest, pointed at a real SQLite MLflow store."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from console.jobs import JobQueue, jobs_folder
from core.config import PROJECT_ROOT

APP = str(PROJECT_ROOT / "console" / "app.py")


def store_uri(store_dir: Path) -> str:
    """The SQLite tracking URI of a store folder (``mlflow.db`` inside it)."""
    return f"sqlite:///{store_dir / 'mlflow.db'}"


def open_console(monkeypatch: pytest.MonkeyPatch, uri: str, page: str = "Train") -> AppTest:
    """The console on the store at ``uri`` (as ``$MLFLOW_TRACKING_URI``), showing ``page``."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page != "Train":
        at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def _decoded(value: Any) -> Any:
    """Plotly's JSON arrays (plain lists or base64 ``bdata`` blocks) as NumPy arrays."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array
    return np.asarray(value) if isinstance(value, list) else value


def figures(at: AppTest) -> dict[str, list[SimpleNamespace]]:
    """The traces (name, x, y, z) of each plotly chart on the page, by the chart's key."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[element.key] = [
            SimpleNamespace(**{k: _decoded(trace.get(k)) for k in ("name", "x", "y", "z")}) for trace in spec["data"]
        ]
    return out


def poll(condition: Callable[[], object], timeout_s: float, what: str, every_s: float = 0.2) -> object:
    """Call ``condition`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture
def trained_uri(trained, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URI of the session's tiny trained store (TF-IDF x 3 variants), champion restored after."""
    from core.tracking.registry import promote_best
    from core.tracking.setup import configure_tracking, resolve_tracking_uri

    config, _ = trained
    yield resolve_tracking_uri(config.tracking)
    configure_tracking(config.tracking)
    promote_best(config.tracking, config.evaluation.selection_metric)


@pytest.fixture
def empty_store(tmp_path: Path) -> str:
    """A fresh, empty SQLite store's URI."""
    (tmp_path / "store").mkdir()
    return store_uri(tmp_path / "store")


def queue_of(uri: str) -> JobQueue:
    """The training job queue beside a store."""
    return JobQueue(jobs_folder(uri))
