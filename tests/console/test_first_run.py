"""An empty store shows what to do on every page, never an exception; a bad URI is one message."""

from __future__ import annotations

import socket

import pytest

from tests.console.conftest import go_to, open_console


def test_empty_store_shows_the_first_run_screen_on_every_page(
    empty_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_console(monkeypatch, empty_store, "Train")
    assert at.header[0].value == "Train" and not at.error
    assert at.button(key="launch").label == "Launch training"
    assert "No training job yet." in [c.value for c in at.caption]
    for page in ("Compare", "Model"):
        go_to(at, page)
        assert not at.exception and not at.error
        assert at.header[0].value == page
        assert "yet" in at.info[0].value and "**Train** page" in at.info[0].value


def test_unreachable_tracking_server_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    at = open_console(monkeypatch, f"http://127.0.0.1:{port}", "Compare")
    assert not at.exception
    assert at.error[0].value.startswith(f"Cannot use the MLflow tracking store at http://127.0.0.1:{port}")
    assert at.error[0].value.endswith("Check the tracking URI in the sidebar.")
