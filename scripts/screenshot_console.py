"""Screenshot of the console's Model page, "What it keys on" tab (not a test): the top-driver chart.

Starts ``streamlit run console/app.py`` on a free loopback port against a store (read only: nothing
is promoted or trained), opens it in headless Chromium (Selenium + Debian's chromedriver, the flags
of tests/console/test_browser.py), picks the version, opens the tab, asks for the sample's
explanation when the family is explained by occlusion, waits for the chart and saves the window.

    .venv/bin/python -m scripts.screenshot_console --version 1     # the quick TF-IDF of the default store
    .venv/bin/python -m scripts.screenshot_console                 # the champion (occlusion: ~1 s per tweet)
    .venv/bin/python -m scripts.screenshot_console --tracking-uri sqlite:////path/mlflow.db --out drivers.png
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.browser import chromium_session  # the browser and console set-up the tests use
from tests.console.server import serve_console

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_OUT = ROOT / ".artifacts" / "screenshots" / "console_drivers.png"
WAIT_S = 60

log = logging.getLogger("screenshot_console")

_SCROLL_BELOW_HEADER = """
const element = arguments[0];
element.scrollIntoView({block: "start"});
let box = element.parentElement;
while (box && !(box.scrollHeight > box.clientHeight && /auto|scroll/.test(getComputedStyle(box).overflowY))) {
  box = box.parentElement;
}
(box || document.scrollingElement).scrollBy(0, -90);
"""
"""Scrolls the tab row to the top of the view, clear of Streamlit's header bar."""


def poll(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    """Call ``condition`` until it returns something truthy (an exception counts as not yet)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = condition()
        except WebDriverException:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.3)


def _visible(browser: webdriver.Chrome, xpath: str) -> WebElement | None:
    found = [e for e in browser.find_elements(By.XPATH, xpath) if e.is_displayed()]
    return found[0] if found else None


def screenshot_drivers(browser: webdriver.Chrome, url: str, version: str | None, out: Path, explain_s: float) -> None:
    """Model page → version → "What it keys on" → (explain) → chart → ``out``."""
    browser.get(f"{url.rstrip('/')}/model")  # each console page has its own URL
    if version:
        box = poll(lambda: _visible(browser, "//div[contains(@class,'st-key-version')]//input"), WAIT_S, "versions")
        box.click()
        box.send_keys(f"v{version} · ", Keys.ENTER)
        poll(lambda: f"v{version} · " in browser.page_source, WAIT_S, f"version {version} to be shown")
    tab = "//*[@role='tab'][.//p[text()='What it keys on']]"
    poll(lambda: _visible(browser, tab), WAIT_S, "the 'What it keys on' tab").click()
    button = "//div[contains(@class,'st-key-drivers_go')]//button"
    chart = "//div[contains(@class,'st-key-drivers_chart')]//div[contains(@class,'js-plotly-plot')]"
    no_tweets = "logged no test tweets to explain"

    def ready() -> bool:
        return no_tweets in browser.page_source or bool(_visible(browser, button) or _visible(browser, chart))

    poll(ready, explain_s, "the drivers tab")
    if no_tweets in browser.page_source:
        raise RuntimeError("this version's run logged no test tweets: pick a newer one (--version, --tracking-uri)")
    if (go := _visible(browser, button)) is not None:
        log.info("occlusion family: explaining the sample (can take minutes)")
        go.click()
    plot = poll(lambda: _visible(browser, chart), explain_s, "the drivers chart")
    poll(lambda: plot.find_elements(By.CSS_SELECTOR, "g.barlayer path"), WAIT_S, "the bars to be drawn")
    browser.execute_script(_SCROLL_BELOW_HEADER, _visible(browser, tab))
    time.sleep(1)  # let plotly finish its transition after the scroll
    out.parent.mkdir(parents=True, exist_ok=True)
    if not browser.save_screenshot(str(out)):
        raise RuntimeError(f"could not write {out}")


def main() -> int:
    """Parse arguments, serve the console, save the screenshot; 2 when something is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="registered version (default: the one the page opens on, the champion)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else .mlflow/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"PNG to write (default {DEFAULT_OUT})")
    parser.add_argument("--size", default="1400x1250", help="window WIDTHxHEIGHT in pixels (default 1400x1250)")
    parser.add_argument("--explain-timeout", type=float, default=600, help="seconds to wait for the chart")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    width, height = (int(n) for n in args.size.lower().split("x"))
    try:
        with (
            tempfile.TemporaryDirectory(prefix="screenshot-console-") as work,
            serve_console(args.tracking_uri, Path(work) / "streamlit.log", WAIT_S) as url,
            chromium_session(Path(work) / "profile", WAIT_S, window_size=f"{width},{height}") as browser,
        ):
            try:
                screenshot_drivers(browser, url, args.version, args.out, args.explain_timeout)
            except TimeoutError:
                browser.save_screenshot(str(args.out.with_suffix(".failed.png")))
                raise
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
