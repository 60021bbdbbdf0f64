"""End to end in a real headless Chromium (Selenium + Debian's chromedriver): the console served
by ``streamlit run`` on loopback, a tiny training launched from the Train page, followed until it
finishes, then found in the Compare table. A screenshot of the Compare page is written to
``.artifacts/screenshots/`` (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from core.config import PROJECT_ROOT
from tests.browser import browser_fixture
from tests.console.conftest import poll
from tests.console.server import serve_console

SCREENSHOTS = PROJECT_ROOT / ".artifacts" / "screenshots"
WAIT_S = 60
TRAINING_S = 150


@pytest.fixture
def console_url(empty_store: str, tmp_path: Path) -> Iterator[str]:
    """``streamlit run console/app.py`` on a free loopback port, on an empty SQLite store."""
    with serve_console(empty_store, tmp_path / "streamlit.log", WAIT_S) as url:
        yield url


browser = browser_fixture(WAIT_S, window_size="1500,1900")


def widget(browser: webdriver.Chrome, key: str, inner: str) -> WebElement:
    """The element ``inner`` (CSS) of the widget with Streamlit key ``key``, once clickable."""
    locator = (By.CSS_SELECTOR, f".st-key-{key} {inner}")
    return WebDriverWait(browser, WAIT_S).until(expected_conditions.element_to_be_clickable(locator))


def page_shows(browser: webdriver.Chrome, text: str) -> bool:
    return text in browser.page_source


def test_launch_a_tiny_training_in_the_browser_and_compare_it(browser: webdriver.Chrome, console_url: str) -> None:
    browser.get(console_url)
    profile = widget(browser, "profile", "input")
    profile.click()
    profile.send_keys("tiny", Keys.ENTER)  # 1,500 tweets of the shared file, out-of-domain check included
    for variant in ("lemmatize", "stem"):  # one run: TF-IDF on the 'none' variant
        widget(browser, "pre-tiny", f"button[aria-label='Remove {variant}']").click()
        gone = f"the '{variant}' tag to go"
        poll(lambda v=variant: not browser.find_elements(By.CSS_SELECTOR, f"[aria-label='Remove {v}']"), WAIT_S, gone)
    widget(browser, "launch", "button").click()
    poll(lambda: page_shows(browser, "Queued job #1: tiny: tfidf × none"), WAIT_S, "the job to be queued")

    # The jobs panel polls by itself: the job runs, then shows as finished.
    poll(lambda: page_shows(browser, "✅ finished"), TRAINING_S, "the training job to finish", every_s=1)
    assert not page_shows(browser, "❌ failed")

    browser.find_element(By.XPATH, "//section[@data-testid='stSidebar']//label[.//p[text()='Compare']]").click()

    def label_cells() -> list[str]:  # the table's 'label' column (the grid keeps an accessible copy in the DOM)
        cells = browser.find_elements(By.CSS_SELECTOR, ".st-key-runs_table [data-testid^='glide-cell-1-']")
        return [cell.get_attribute("textContent") for cell in cells]

    assert poll(label_cells, WAIT_S, "the run in the comparison table") == ["tfidf-none v1"]
    poll(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) >= 4, WAIT_S, "the charts to render")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / "console_compare.png"))
