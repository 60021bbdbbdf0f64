"""The console's login in a real browser: the sidebar's password form, as a person fills it."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import poll

LOGGED_IN = "🔓 Logged in"
WRONG = "Wrong password: still read-only."


def submit_password(browser: webdriver.Chrome, password: str, wait_s: float) -> None:
    """Type ``password`` in the sidebar's password field and press "Log in"."""
    wait = WebDriverWait(browser, wait_s)
    field = wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".st-key-console_password input")))
    field.clear()
    field.send_keys(password)
    wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".st-key-login button"))).click()


def log_in(browser: webdriver.Chrome, password: str, wait_s: float) -> None:
    """Log in with ``password`` and wait until the sidebar says so."""
    submit_password(browser, password, wait_s)
    poll(lambda: LOGGED_IN in browser.page_source, wait_s, "the console to say it is logged in")
