"""End to end in a real headless Chromium (Selenium + Debian's chromedriver): type a tweet, see the
label, click "Wrong prediction", and find the feedback in the API's database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from client_app import ClientSettings, create_app
from tests.client_app.conftest import API_KEY, RunningApi, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install -y chromium chromium-driver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WAIT_S = 20


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile; fails (never skips) when it is not installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: install the browser with `{INSTALL_HINT}`.")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def client_url(running_api: RunningApi) -> Iterator[str]:
    """The client app served on a free loopback port, talking to the running API."""
    with serve(create_app(ClientSettings(api_url=running_api.url, api_key=API_KEY, timeout_s=10))) as url:
        yield url


def stored_feedback(db: Path) -> list[tuple[str, str, str]]:
    """(tweet text, served label, correct label) of every feedback in the API's SQLite file."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT p.text, p.label, f.correct_label FROM feedback f JOIN predictions p ON p.id = f.prediction_id"
        ).fetchall()


def test_a_person_corrects_a_wrong_prediction_in_the_browser(
    browser: webdriver.Chrome, client_url: str, running_api: RunningApi
) -> None:
    tweet = "my flight got cancelled and they lost my bag, worst airline ever <b>angry</b>"
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(client_url)
    browser.find_element(By.ID, "tweet").send_keys(tweet)
    browser.find_element(By.ID, "submit").click()

    label_text = wait.until(expected_conditions.visibility_of_element_located((By.ID, "label"))).text
    shown = re.fullmatch(r"(negative|positive) — \d{1,3}%", label_text)
    assert shown, label_text
    label = shown.group(1)
    opposite = {"negative": "positive", "positive": "negative"}[label]
    assert browser.find_element(By.ID, "shown-text").text == tweet  # shown as text, not as markup
    assert browser.find_elements(By.TAG_NAME, "b") == []

    browser.find_element(By.ID, "wrong").click()
    confirmation = wait.until(expected_conditions.visibility_of_element_located((By.ID, "confirmation"))).text
    assert f"this tweet is {opposite}" in confirmation
    assert stored_feedback(running_api.store.path) == [(tweet, label, opposite)]
