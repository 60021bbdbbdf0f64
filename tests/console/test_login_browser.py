"""The console's login in a real headless Chromium (the console served by ``streamlit run`` on
loopback with a password set): Launch is refused before logging in, a wrong password is refused, the
right one unlocks the console (and its store choice) for the rest of the tab's session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser import browser_fixture
from tests.console.conftest import CONSOLE_PASSWORD, poll, queue_of
from tests.console.login_steps import LOGGED_IN, WRONG, log_in, submit_password
from tests.console.server import serve_console

WAIT_S = 60
REFUSED = "Refused: log in with the console password (sidebar) to launch a training."

browser = browser_fixture(WAIT_S, window_size="1400,1200")


@pytest.fixture
def console_url(empty_store: str, tmp_path: Path) -> Iterator[str]:
    """The console on an empty store, with its password set."""
    env = {"CONSOLE_PASSWORD": CONSOLE_PASSWORD}
    with serve_console(empty_store, tmp_path / "streamlit.log", WAIT_S, env) as url:
        yield url


def uri_field_enabled(browser: webdriver.Chrome) -> bool:
    return browser.find_element(By.CSS_SELECTOR, ".st-key-tracking_uri input").is_enabled()


def test_the_console_asks_for_its_password_before_launching(
    browser: webdriver.Chrome, console_url: str, empty_store: str
) -> None:
    browser.get(console_url)
    launch = (By.CSS_SELECTOR, ".st-key-launch button")
    poll(lambda: browser.find_elements(*launch), WAIT_S, "the Launch button")
    assert not uri_field_enabled(browser)
    browser.find_element(*launch).click()
    poll(lambda: REFUSED in browser.page_source, WAIT_S, "the refusal")
    assert queue_of(empty_store).jobs() == []  # nothing queued

    submit_password(browser, "not-the-password", WAIT_S)
    poll(lambda: WRONG in browser.page_source, WAIT_S, "the wrong password to be refused")
    assert LOGGED_IN not in browser.page_source and not uri_field_enabled(browser)

    log_in(browser, CONSOLE_PASSWORD, WAIT_S)
    assert WRONG not in browser.page_source
    poll(lambda: uri_field_enabled(browser), WAIT_S, "the store field to open")
    browser.find_element(By.CSS_SELECTOR, "section[data-testid='stSidebar'] a[href$='/compare']").click()
    poll(lambda: browser.current_url == f"{console_url}/compare", WAIT_S, "the Compare page")
    poll(lambda: LOGGED_IN in browser.page_source, WAIT_S, "the login to hold on another page")
