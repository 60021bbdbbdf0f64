"""End to end in a real headless Chromium (Selenium + Debian's chromedriver): type a tweet, see the
label, click "Wrong prediction", and find the feedback in the API's database; see the tweet's words
coloured by the API's explanation."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from client_app import ClientSettings, create_app
from tests.browser import browser_fixture
from tests.client_app.conftest import API_KEY, RunningApi, serve

WAIT_S = 20


browser = browser_fixture(WAIT_S)


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
    shown = re.fullmatch(r"(negative|positive) · P\(negative\) (0\.\d+) (≥|<) threshold (0\.\d+)", label_text)
    assert shown, label_text
    label, relation = shown.group(1), shown.group(3)
    assert relation == ("≥" if label == "negative" else "<")
    assert (float(shown.group(2)) >= float(shown.group(4))) == (label == "negative")
    opposite = {"negative": "positive", "positive": "negative"}[label]
    assert browser.find_element(By.ID, "shown-text").text == tweet  # shown as text, not as markup
    assert browser.find_elements(By.TAG_NAME, "b") == []
    highlighted = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#shown-text span.push")]
    assert highlighted

    browser.find_element(By.ID, "wrong").click()
    confirmation = wait.until(expected_conditions.visibility_of_element_located((By.ID, "confirmation"))).text
    assert f"this tweet is {opposite}" in confirmation
    assert stored_feedback(running_api.store.path) == [(tweet, label, opposite)]
    # the answer stays on the page: the tweet, its highlights, the same label line; no second button
    assert browser.find_element(By.ID, "label").text == label_text
    assert browser.find_element(By.ID, "shown-text").text == tweet
    assert [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#shown-text span.push")] == highlighted
    assert browser.find_elements(By.ID, "wrong") == []


def rgba(css: str) -> tuple[float, ...]:
    """The channels of a computed ``rgba(r, g, b, a)`` colour."""
    return tuple(float(x) for x in re.findall(r"[\d.]+", css))


def test_the_words_are_highlighted_by_their_push(
    browser: webdriver.Chrome, client_url: str, running_api: RunningApi
) -> None:
    tweet = "so sad, they lost my bag again but the crew was great & kind <i>thanks</i>"
    browser.get(client_url)
    browser.find_element(By.ID, "tweet").send_keys(tweet)
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, WAIT_S).until(expected_conditions.visibility_of_element_located((By.ID, "label")))

    shown = browser.find_element(By.ID, "shown-text")
    assert shown.text == tweet and browser.find_elements(By.TAG_NAME, "i") == []
    assert browser.find_element(By.ID, "explain-legend").is_displayed()
    explained = requests.post(f"{running_api.url}/explain", json={"text": tweet}, timeout=10).json()
    pushed = [(t["token"], t["weight"]) for t in explained["tokens"] if t["weight"] != 0]  # in text order
    spans = shown.find_elements(By.CSS_SELECTOR, "span.push")
    assert [s.text for s in spans] == [token for token, _ in pushed]
    strongest = max(abs(w) for _, w in pushed)
    for span, (token, weight) in zip(spans, pushed, strict=True):
        red, _, blue, alpha = rgba(span.value_of_css_property("background-color"))
        assert (red > blue) == (weight > 0), (token, weight)  # red pushes negative, blue positive
        assert alpha == pytest.approx(0.12 + 0.73 * abs(weight) / strongest, abs=0.01)
        assert float(span.get_attribute("data-weight")) == pytest.approx(weight, abs=1e-4)
    top = max(range(len(pushed)), key=lambda i: pushed[i][1])
    assert "push-negative" in spans[top].get_attribute("class") and pushed[top][1] > 0


ATTACK_PAGE = """<!doctype html><html><body>
<form method="post" action="{action}">
  <input type="hidden" name="prediction_id" value="{prediction_id}">
  <input type="hidden" name="label" value="negative">
  <input type="hidden" name="probability_negative" value="0.9">
  <input type="hidden" name="model_name" value="m">
  <input type="hidden" name="model_version" value="1">
  <input type="hidden" name="text" value="forged">
  <input type="hidden" name="csrf_token" value="{token}">
  <button id="attack" type="submit">Win a free flight</button>
</form></body></html>"""


def test_another_site_cannot_post_feedback_from_the_browser(
    browser: webdriver.Chrome, client_url: str, running_api: RunningApi
) -> None:
    """A page on another origin, visited by someone who just used the client app, posts the feedback form
    to it with a real prediction id and a token the attacker got in their own session: refused, nothing stored."""
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(client_url)  # the victim's session: a real prediction, and its cookie in the browser
    browser.find_element(By.ID, "tweet").send_keys("lost my bag again")
    browser.find_element(By.ID, "submit").click()
    prediction_id = wait.until(
        expected_conditions.presence_of_element_located((By.NAME, "prediction_id"))
    ).get_attribute("value")
    own_page = requests.post(f"{client_url}/predict", data={"text": "the attacker's own visit"}, timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', own_page).group(1)

    attacker = Flask("attacker")
    attacker.add_url_rule(
        "/",
        "page",
        lambda: ATTACK_PAGE.format(action=f"{client_url}/feedback", prediction_id=prediction_id, token=token),
    )
    with serve(attacker) as attacker_url:
        browser.get(attacker_url.replace("127.0.0.1", "localhost"))  # another origin (and another site)
        browser.find_element(By.ID, "attack").click()
        error = wait.until(expected_conditions.visibility_of_element_located((By.ID, "error"))).text
    assert "This feedback was refused" in error
    assert browser.find_elements(By.ID, "confirmation") == []
    assert running_api.store.feedback_for(prediction_id) == []
