"""The feedback form refuses posts that did not come from this app's own page, in this session: a
missing, tampered, foreign or expired token, or another site's Origin/Referer, gets a 400 page and
nothing reaches the API's event store; the normal flow (result page, its token, post) records."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient

import client_app.csrf
from client_app import ClientSettings, create_app
from client_app.csrf import FIELD
from tests.client_app.conftest import RunningApi
from tests.client_app.pages import page, predict, shown

REFUSED = "the form did not come from this page"
FOREIGN = "it was not sent from this page"


def refused(client: FlaskClient, form: dict[str, str], sentence: str, **headers: str) -> None:
    """Post ``form`` and check the clear 400 page: the sentence, no traceback, no result, no confirmation."""
    response = client.post("/feedback", data=form, headers=headers)
    body = html.unescape(page(response))
    assert response.status_code == 400, body
    assert sentence in body and 'id="error"' in body
    assert "Traceback" not in body and 'id="confirmation"' not in body and 'id="result"' not in body


def test_the_normal_form_flow_records_the_feedback(client: FlaskClient, running_api: RunningApi) -> None:
    result = predict(client, "lost my bag again")
    assert len(result.form[FIELD]) > 40  # a signed token, on the page
    response = client.post("/feedback", data=result.form, headers={"Origin": "http://localhost"})
    assert response.status_code == 200 and 'id="confirmation"' in page(response)
    stored = running_api.store.feedback_for(result.form["prediction_id"])
    assert [f.correct_label for f in stored] == [{"negative": "positive", "positive": "negative"}[result.label]]


def test_posts_without_a_valid_token_are_refused_and_reach_nothing(
    client: FlaskClient, client_settings: ClientSettings, running_api: RunningApi
) -> None:
    form = predict(client, "the flight was late and the crew rude").form
    token = form[FIELD]
    without = {k: v for k, v in form.items() if k != FIELD}
    refused(client, without, REFUSED)
    refused(client, {**form, FIELD: ""}, REFUSED)
    refused(client, {**form, FIELD: token[:-2] + ("AA" if token[-2:] != "AA" else "BB")}, REFUSED)  # tampered
    other_session = create_app(client_settings).test_client()
    foreign_token = predict(other_session, "another person's tweet").form[FIELD]
    refused(client, {**form, FIELD: foreign_token}, REFUSED)  # valid, but for someone else's session
    fresh_browser = create_app(client_settings).test_client()  # the right token, without its session cookie
    refused(fresh_browser, form, REFUSED)
    other_key = create_app(ClientSettings(api_url=running_api.url, secret_key="another deployment")).test_client()
    other_key.set_cookie("session", client.get_cookie("session").value)  # a cookie this app did not sign
    refused(other_key, form, REFUSED)
    assert running_api.store.feedback_for(form["prediction_id"]) == []
    assert client.post("/feedback", data=form).status_code == 200  # the refusals spent nothing
    assert len(running_api.store.feedback_for(form["prediction_id"])) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "null", "Referer": "http://evil.example/"},
    ],
)
def test_posts_from_another_site_are_refused_even_with_the_token(
    client: FlaskClient, running_api: RunningApi, headers: dict[str, str]
) -> None:
    form = predict(client, "my flight was cancelled").form
    refused(client, form, FOREIGN, **headers)
    assert running_api.store.feedback_for(form["prediction_id"]) == []


@pytest.mark.parametrize(
    "headers", [{"Origin": "http://localhost"}, {"Origin": "null"}, {"Referer": "http://localhost/predict"}]
)
def test_posts_from_this_site_are_accepted(
    client: FlaskClient, running_api: RunningApi, headers: dict[str, str]
) -> None:
    """``Origin: null`` is what browsers send under the page's ``Referrer-Policy: no-referrer``."""
    form = predict(client, "the crew was lovely").form
    response = client.post("/feedback", data=form, headers=headers)
    assert response.status_code == 200, page(response)
    assert len(running_api.store.feedback_for(form["prediction_id"])) == 1


def test_an_expired_form_is_refused(
    client: FlaskClient, running_api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = predict(client, "lost my bag").form
    monkeypatch.setattr(client_app.csrf, "MAX_AGE_S", -1)  # any form is older than that: no hour-long wait
    refused(client, form, "This feedback form has expired.")
    assert running_api.store.feedback_for(form["prediction_id"]) == []


def test_the_session_cookie_is_http_only_and_same_site(client: FlaskClient) -> None:
    response = client.post("/predict", data={"text": "lost my bag"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert shown(page(response)).form[FIELD]
