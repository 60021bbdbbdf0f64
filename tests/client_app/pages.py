"""Reading the client app's pages as a person sees them: the result line and the feedback form."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from flask.testing import FlaskClient

LABEL_LINE = re.compile(
    r'<p id="label" class="label"><span id="label-name">(negative|positive)</span> '
    r'<span id="decision" class="decision">· P\(negative\) <span id="p-negative">([0-9.]+)</span>'
    r'(?: <span id="relation">(≥|<)</span> threshold <span id="threshold">([0-9.]+)</span>)?</span></p>'
)
"""The label line (``<`` is escaped in HTML, hence the unescape before matching)."""
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
SHOWN_TEXT = re.compile(r'<q id="shown-text">(.*?)</q>', re.S)


def page(response) -> str:
    """The HTML of a response."""
    return response.get_data(as_text=True)


@dataclass(frozen=True)
class Shown:
    """What a result page shows: the label, P(negative), the comparison and threshold, the feedback form."""

    label: str
    p_negative: str
    relation: str | None
    threshold: str | None
    form: dict[str, str]
    """The feedback form's hidden fields, unescaped (empty once the feedback was sent)."""
    tweet_html: str
    """The tweet as marked up on the page (highlights included)."""


def shown(body: str) -> Shown:
    """Read a result page; fails the test when it shows no result."""
    line = LABEL_LINE.search(html.unescape(body))
    tweet = SHOWN_TEXT.search(body)
    assert line and tweet, body
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(body)}
    return Shown(*line.groups(), form=form, tweet_html=tweet.group(1))


def predict(client: FlaskClient, text: str) -> Shown:
    """Submit ``text`` on the page; return what the result shows."""
    response = client.post("/predict", data={"text": text})
    assert response.status_code == 200, page(response)
    return shown(page(response))
