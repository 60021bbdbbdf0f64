"""Headless Chromium for the end-to-end tests (and the console screenshot script).

Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) driven by Selenium,
with the flags that keep it off this machine's closed network, and a fresh profile each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

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


class BrowserMissing(RuntimeError):
    """Chromium or its driver is not installed."""


def headless_chromium(
    profile_dir: Path, page_load_timeout_s: float, window_size: str | None = None
) -> webdriver.Chrome:
    """A headless Chromium with a fresh profile in ``profile_dir``.

    Raises:
        BrowserMissing: ``/usr/bin/chromium`` or ``/usr/bin/chromedriver`` is absent (with the install hint).
    """
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        raise BrowserMissing(f"{', '.join(missing)} not found: install the browser with `{INSTALL_HINT}`.")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    extra = [f"--user-data-dir={profile_dir}"] + ([f"--window-size={window_size}"] if window_size else [])
    for flag in (*FLAGS, *extra):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(page_load_timeout_s)
    return driver


@contextmanager
def chromium_session(
    profile_dir: Path, page_load_timeout_s: float, window_size: str | None = None
) -> Iterator[webdriver.Chrome]:
    """:func:`headless_chromium`, quit on exit."""
    driver = headless_chromium(profile_dir, page_load_timeout_s, window_size)
    try:
        yield driver
    finally:
        driver.quit()


def browser_fixture(page_load_timeout_s: float, window_size: str | None = None):
    """A pytest fixture ``browser``: headless Chromium with a fresh profile under ``tmp_path``;
    fails (never skips) when Chromium is not installed. Use as ``browser = browser_fixture(20)``."""

    @pytest.fixture
    def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
        try:
            driver = headless_chromium(tmp_path / "chromium-profile", page_load_timeout_s, window_size)
        except BrowserMissing as missing:
            pytest.fail(str(missing))
        try:
            yield driver
        finally:
            driver.quit()

    return browser
