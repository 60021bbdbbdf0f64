"""The tweet shown with its words highlighted by the API's explanation: segments rebuild the text,
colours follow the push, markup in a tweet stays text, and bad offsets are never trusted."""

from __future__ import annotations

import html
import re

import requests
from flask.testing import FlaskClient

from client_app.api_client import Explanation, WordPush
from client_app.highlighting import highlight
from tests.client_app.conftest import RunningApi

SPAN = re.compile(r'<span class="push push-(negative|positive)" data-weight="(-?[0-9.]+)"[^>]*>([^<]*)</span>')


def test_segments_rebuild_the_text_and_carry_the_push() -> None:
    text = "lost my bag, great crew"
    words = (WordPush("lost", 0, 4, 2.0), WordPush("my", 5, 7, 0.0), WordPush("great", 13, 18, -1.0))
    segments = highlight(text, Explanation("linear", words))
    assert "".join(s.text for s in segments) == text
    pushed = {s.text: (s.direction, s.strength) for s in segments if s.direction}
    assert pushed == {"lost": ("negative", 1.0), "great": ("positive", 0.5)}
    assert [s.text for s in segments if not s.direction] == [" ", "my", " bag, ", " crew"]


def test_offsets_that_do_not_point_at_their_word_are_ignored() -> None:
    text = "lost my bag"
    words = (WordPush("lost", 0, 4, 1.0), WordPush("bag", 0, 3, 5.0), WordPush("x", 50, 51, 1.0))
    segments = highlight(text, Explanation("occlusion", words))
    assert "".join(s.text for s in segments) == text
    assert [(s.text, s.strength) for s in segments if s.direction] == [("lost", 1.0)]


def test_the_page_highlights_the_words_the_api_weighed(client: FlaskClient, running_api: RunningApi) -> None:
    text = "lost my bag again <b>angry</b> & tired"
    response = client.post("/predict", data={"text": text})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="explain-legend"' in body
    shown = re.search(r'<q id="shown-text">(.*?)</q>', body, re.S).group(1)
    assert not re.search(r"</?b[ >]", shown) and "&lt;" in shown and "&amp;" in shown  # escaped, never markup
    assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == text
    api = requests.post(f"{running_api.url}/explain", json={"text": text}, timeout=10).json()
    pushed = {w["token"]: w["weight"] for w in api["tokens"] if w["weight"] != 0}
    spans = {html.unescape(word): (direction, float(weight)) for direction, weight, word in SPAN.findall(shown)}
    assert spans and set(spans) == set(pushed)
    for word, (direction, weight) in spans.items():
        assert direction == ("negative" if pushed[word] > 0 else "positive")
        assert abs(weight - pushed[word]) < 1e-4
