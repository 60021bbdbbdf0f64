"""End to end in a real headless Chromium (Selenium + Debian's chromedriver): the console served
by ``streamlit run`` on loopback, a tiny training launched from the Train page, followed until it
finishes, then found in the Compare table; and, beside a real MLflow UI (``mlflow server`` as the
stack starts it), a tiny BERT's run and version followed from the console's links to their MLflow
pages, and its learning curve drawn on the Model page. Screenshots of the Compare page and the
learning curve are written to ``.artifacts/screenshots/`` (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from core.config import PROJECT_ROOT
from core.tracking.setup import configure_tracking
from tests.browser import browser_fixture
from tests.console.conftest import CONSOLE_PASSWORD, NeuralRun, poll
from tests.console.login_steps import log_in
from tests.console.server import serve_console, serve_mlflow

SCREENSHOTS = PROJECT_ROOT / ".artifacts" / "screenshots"
WAIT_S = 60
TRAINING_S = 150


@pytest.fixture
def console_url(empty_store: str, tmp_path: Path) -> Iterator[str]:
    """``streamlit run console/app.py`` on a free loopback port, on an empty SQLite store, with a password."""
    with serve_console(empty_store, tmp_path / "streamlit.log", WAIT_S, {"CONSOLE_PASSWORD": CONSOLE_PASSWORD}) as url:
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
    log_in(browser, CONSOLE_PASSWORD, WAIT_S)  # launching needs it (tests/console/test_login_browser.py)
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

    browser.find_element(By.CSS_SELECTOR, "section[data-testid='stSidebar'] a[href$='/compare']").click()  # the menu
    poll(lambda: browser.current_url == f"{console_url}/compare", WAIT_S, "the Compare page's own URL")

    def label_cells() -> list[str]:  # the table's 'label' column (the grid keeps an accessible copy in the DOM)
        cells = browser.find_elements(By.CSS_SELECTOR, ".st-key-runs_table [data-testid^='glide-cell-1-']")
        return [cell.get_attribute("textContent") for cell in cells]

    assert poll(label_cells, WAIT_S, "the run in the comparison table") == ["tfidf-none v1"]
    poll(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) >= 4, WAIT_S, "the charts to render")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / "console_compare.png"))


@pytest.fixture
def linked_console(tiny_bert_run: NeuralRun, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real MLflow UI on the tiny BERT's store, and the console on that store told its URL."""
    with serve_mlflow(tiny_bert_run.uri, tmp_path / "mlflow.log", 180) as mlflow_url:
        env = {"CONSOLE_MLFLOW_URL": mlflow_url}
        with serve_console(tiny_bert_run.uri, tmp_path / "streamlit.log", WAIT_S, env) as console:
            yield console, mlflow_url


@pytest.mark.slow  # trains a tiny BERT, starts the MLflow UI
def test_follow_a_run_link_to_the_mlflow_ui_and_see_the_learning_curve(
    browser: webdriver.Chrome, linked_console: tuple[str, str], tiny_bert_run: NeuralRun
) -> None:
    console, mlflow_url = linked_console
    configure_tracking(tiny_bert_run.tracking)
    run = MlflowClient().get_run(tiny_bert_run.result.run_id)
    run_url = f"{mlflow_url}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
    version = tiny_bert_run.result.version
    version_url = f"{mlflow_url}/#/models/air-paradise-sentiment/versions/{version}"

    browser.get(f"{console}/compare")  # each page has its own URL

    def link_cells() -> list[str] | None:  # the grid's accessible copy: columns mlflow_run and mlflow_version
        cells = [
            browser.find_elements(By.CSS_SELECTOR, f".st-key-runs_table [data-testid='glide-cell-{i}-0']")
            for i in (2, 3)
        ]
        return [c[0].get_attribute("textContent") for c in cells] if all(cells) else None

    assert poll(link_cells, WAIT_S, "the run's MLflow links in the table") == [run_url, version_url]

    browser.get(f"{console}/model")
    link = widget(browser, "mlflow_links", f"a[href='{run_url}']")
    assert link.text == f"run {run.info.run_id[:8]}"
    console_tab = browser.current_window_handle
    link.click()  # opens the MLflow UI in a new tab
    poll(lambda: len(browser.window_handles) == 2, WAIT_S, "the MLflow tab to open")
    browser.switch_to.window(next(h for h in browser.window_handles if h != console_tab))
    poll(lambda: browser.current_url == run_url, WAIT_S, "the run's page in the MLflow UI")
    assert poll(
        lambda: page_shows(browser, run.info.run_name) and page_shows(browser, run.info.run_id),
        WAIT_S,
        "the run's name and id in the MLflow UI",
    )
    browser.get(version_url)
    poll(lambda: page_shows(browser, f"Version {version}"), WAIT_S, "the registered version's page in the MLflow UI")
    assert page_shows(browser, run.info.run_id) or page_shows(browser, run.info.run_name)  # it names its run

    browser.switch_to.window(console_tab)
    tab = browser.find_element(By.XPATH, "//div[@data-testid='stTab'][.//p[text()='Learning curve']]")
    tab.click()
    title = f"Learning curve of run {run.info.run_id[:8]}"
    poll(
        lambda: any(e.is_displayed() for e in browser.find_elements(By.XPATH, f"//*[text()='{title}']")),
        WAIT_S,
        "the learning curve to be drawn",
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / "console_learning_curve.png"))
