"""Fixtures: the real API and the client app, each served by werkzeug on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from api import ApiSettings
from api import create_app as create_api
from client_app import ClientSettings, create_app
from core.monitoring.event_store import EventStore
from tests.harness import free_port

API_KEY = "client-test-key-456"


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its base URL; stop it on exit."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"serve-{app.name}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class RunningApi:
    """The real API served on loopback, and the feedback store it writes to."""

    url: str
    store: EventStore
    max_text_length: int

    def served(self, prediction_id: str, timeout_s: float = 15.0):
        """The stored prediction event, waiting for it: the API writes events off the request path."""
        deadline = time.monotonic() + timeout_s
        while (record := self.store.get_prediction(prediction_id)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return record


@pytest.fixture(scope="module")
def running_api(trained, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """The real API on the session's tiny trained store, with a fresh feedback DB, on loopback."""
    config, _ = trained
    db = tmp_path_factory.mktemp("client_feedback") / "feedback.db"
    settings = ApiSettings(tracking=config.tracking, api_key=API_KEY, feedback_db=db)
    with serve(create_api(settings)) as url:
        yield RunningApi(url, EventStore.for_sqlite(db), settings.max_text_length)


@pytest.fixture
def client_settings(running_api: RunningApi) -> ClientSettings:
    return ClientSettings(api_url=running_api.url, api_key=API_KEY, timeout_s=10)


@pytest.fixture
def client(client_settings: ClientSettings) -> FlaskClient:
    """Flask test client of the client app, talking to the running API over HTTP."""
    return create_app(client_settings).test_client()


@pytest.fixture
def unreachable_url() -> str:
    """A loopback URL where the connection is refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback URL that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
