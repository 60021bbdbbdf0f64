"""Console fixtures: the app under streamlit's AppTest, pointed at a real SQLite MLflow store (the
session's tiny TF-IDF store, an empty one, or a tiny neural run's with its learning curve), logged in
with a test password unless a test asks otherwise."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from console.auth import DIGEST_VARIABLE, PASSWORD_KEY, PASSWORD_VARIABLE
from console.jobs import JobQueue, jobs_folder
from console.shell import PAGES
from core.config import PROJECT_ROOT, BertConfig, KerasEmbeddingConfig, TrackingConfig
from core.training.fitting import RunResult
from tests.fixtures import write_easy_csv
from tests.models.contract import train_family

APP = str(PROJECT_ROOT / "console" / "app.py")
CONSOLE_PASSWORD = "console-test-password"
"""The console password :func:`open_console` sets and logs in with (the browser tests too)."""


@pytest.fixture(autouse=True)
def _no_ambient_console_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """No console password from the shell that runs the tests: each test sets the one it means."""
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    monkeypatch.delenv(DIGEST_VARIABLE, raising=False)


def store_uri(store_dir: Path) -> str:
    """The SQLite tracking URI of a store folder (``mlflow.db`` inside it)."""
    return f"sqlite:///{store_dir / 'mlflow.db'}"


def go_to(at: AppTest, page: str) -> AppTest:
    """Switch the running console to the page titled ``page`` (its own URL, as a browser would) and run it."""
    script = next(spec.script for spec in PAGES if spec.title == page)
    return at.switch_page(script).run()


def log_in(at: AppTest, password: str = CONSOLE_PASSWORD) -> AppTest:
    """Type ``password`` in the sidebar's login form and submit it."""
    at.sidebar.text_input(key=PASSWORD_KEY).set_value(password)
    return at.sidebar.button(key="login").click().run()


def open_console(monkeypatch: pytest.MonkeyPatch, uri: str, page: str = "Train", login: bool = True) -> AppTest:
    """The console on the store at ``uri`` (as ``$MLFLOW_TRACKING_URI``), showing ``page``: with
    ``login``, its password set to :data:`CONSOLE_PASSWORD` and logged in; else as the environment
    the test set has it, not logged in."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    if login:
        monkeypatch.setenv(PASSWORD_VARIABLE, CONSOLE_PASSWORD)
    at = AppTest.from_file(APP, default_timeout=60).run()  # the default page: Train
    if login:
        log_in(at)
        assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    if page != "Train":
        go_to(at, page)
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


@dataclass(frozen=True)
class NeuralRun:
    """One tiny neural family trained by the real pipeline into a store of its own."""

    uri: str
    tracking: TrackingConfig
    result: RunResult


def train_neural(family: str, family_config: Any, root: Path) -> NeuralRun:
    """``family`` trained on 200 easy tweets (seconds) into a fresh SQLite store under ``root``."""
    result = train_family(family, family_config, write_easy_csv(root / "easy.csv", n=200), root)
    tracking = TrackingConfig(store_dir=root / ".mlflow")
    return NeuralRun(tracking.resolved_uri(), tracking, result)


@pytest.fixture(scope="session")
def tiny_bert_run(tmp_path_factory: pytest.TempPathFactory) -> NeuralRun:
    """A tiny random BERT (2 layers, 32 wide) fine-tuned for 2 epochs: 2 validation checks an epoch."""
    from tests.models.tiny_bert import build_tiny_bert  # torch: only for the tests that use this store

    root = tmp_path_factory.mktemp("console_bert")
    config = BertConfig(
        checkpoint=str(build_tiny_bert(root / "checkpoint")),
        max_length=32,
        batch_size=16,
        epochs=2,
        patience=2,
        learning_rate=3e-3,
        onnx_export=False,  # not what these tests look at
    )
    return train_neural("bert", config, root)


@pytest.fixture(scope="session")
def tiny_keras_run(tmp_path_factory: pytest.TempPathFactory) -> NeuralRun:
    """A tiny Keras embedding model trained for up to 4 epochs."""
    config = KerasEmbeddingConfig(
        embedding_dim=16, hidden_units=16, learning_rate=1e-2, epochs=4, patience=2, max_tokens=2000, sequence_length=16
    )
    return train_neural("keras_embedding", config, tmp_path_factory.mktemp("console_keras"))
