"""Real receivers on loopback for the monitoring tests: an SMTP server (aiosmtpd), a webhook
receiver and an Application Insights ingestion endpoint (plain HTTP servers in threads)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from api import ApiSettings
from core.config import TrackingConfig
from core.monitoring.settings import AlertConfig, MonitoringConfig
from tests.harness import free_port

API_KEY = "monitoring-test-key"
KEY = {"X-API-Key": API_KEY}


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or the deadline passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: _Mailbox

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping every message."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


class HttpReceiver:
    """A loopback HTTP server that keeps the JSON body of every POST and answers ``status``."""

    def __init__(self, path: str = "/") -> None:
        self.bodies: list = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server hook name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                receiver.bodies.append((self.path, json.loads(raw)))
                body = b"{}"
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    """A real HTTP receiver for alert webhooks."""
    receiver = HttpReceiver("/hooks/sentiment")
    yield receiver
    receiver.close()


@pytest.fixture
def ingestion(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    """A loopback Application Insights ingestion endpoint (the exporter POSTs to /v2.1/track).

    The SDK's own statistics are switched off: otherwise it reports at exit to a server that is gone.
    """
    for name in (
        "APPLICATIONINSIGHTS_SDKSTATS_DISABLED",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",
    ):
        monkeypatch.setenv(name, "true")
    receiver = HttpReceiver("/")
    yield receiver
    receiver.close()


def connection_string(receiver: HttpReceiver) -> str:
    """An Application Insights connection string whose ingestion endpoint is ``receiver``."""
    return f"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={receiver.url}"


def envelopes(receiver: HttpReceiver, base_type: str) -> list[dict]:
    """Every envelope of one ``baseType`` the ingestion server received."""
    return [
        item
        for path, body in receiver.bodies
        if path.endswith("/track")
        for item in body
        if item["data"]["baseType"] == base_type
    ]


def api_settings(tracking: TrackingConfig, db: Path, store_url: str | None = None, **alerts) -> ApiSettings:
    """API settings on the tiny champion, events in ``db`` (or ``store_url``), alert rule overrides."""
    monitoring = MonitoringConfig(store_url=store_url, alerts=AlertConfig(**alerts))
    return ApiSettings(tracking=tracking, api_key=API_KEY, feedback_db=db, monitoring=monitoring)
