"""The client app's pages through Flask's test client, against the real API over loopback HTTP."""

from __future__ import annotations

import html

import pytest
import requests
from flask.testing import FlaskClient

from client_app import ClientSettings, create_app
from tests.client_app.conftest import API_KEY, RunningApi
from tests.client_app.pages import page, predict, shown

OPPOSITE = {"negative": "positive", "positive": "negative"}


def test_index_shows_the_form(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'name="text"' in page(response) and 'id="submit"' in page(response)


def test_submit_shows_p_negative_next_to_the_threshold(client: FlaskClient, running_api: RunningApi) -> None:
    model = requests.get(f"{running_api.url}/model", timeout=10).json()
    assert model["threshold"] is not None  # the tiny trained model records its threshold
    for text, expected in (("lost my bag again", "negative"), ("great crew, thanks", "positive")):
        result = predict(client, text)
        served = running_api.served(result.form["prediction_id"])
        assert served is not None and result.label == served.label == expected
        decimals = len(result.p_negative.split(".")[1])
        assert result.p_negative == f"{served.probability_negative:.{decimals}f}"
        assert result.threshold == f"{model['threshold']:.{decimals}f}"  # the API's own threshold, read over HTTP
        assert result.relation == ("≥" if expected == "negative" else "<")
        assert (served.probability_negative >= model["threshold"]) == (expected == "negative")
        assert float(result.form["threshold"]) == model["threshold"]


def test_wrong_prediction_keeps_the_answer_on_the_page(client: FlaskClient, running_api: RunningApi) -> None:
    text = "lost my bag again, worst airline ever"
    before = predict(client, text)
    response = client.post("/feedback", data=before.form)
    assert response.status_code == 200, page(response)
    body = page(response)
    after = shown(body)
    opposite = OPPOSITE[before.label]
    assert 'id="confirmation"' in body and f"this tweet is <strong>{opposite}</strong>" in body
    assert (after.label, after.p_negative, after.relation, after.threshold) == (
        before.label,
        before.p_negative,
        before.relation,
        before.threshold,
    )
    assert after.tweet_html == before.tweet_html and 'class="push push-' in after.tweet_html  # same highlights
    assert f">{text}</textarea>" in body
    assert 'id="wrong"' not in body and after.form == {}  # sent once: no second button
    prediction_id = before.form["prediction_id"]
    assert [f.correct_label for f in running_api.store.feedback_for(prediction_id)] == [opposite]


def test_tweet_text_is_escaped_everywhere(client: FlaskClient, running_api: RunningApi) -> None:
    script = "<script>alert(1)</script>"
    response = client.post("/predict", data={"text": script})
    assert response.status_code == 200
    assert script not in page(response)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page(response)
    form = shown(page(response)).form
    assert form["text"] == script  # carried back as typed (escaped in the attribute)
    response = client.post("/feedback", data=form)
    assert response.status_code == 200 and script not in page(response)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page(response)
    assert running_api.served(form["prediction_id"]).text == script  # the API got the raw text


def test_api_error_sentence_is_shown(client: FlaskClient, running_api: RunningApi) -> None:
    too_long = "a" * (running_api.max_text_length + 1)
    response = client.post("/predict", data={"text": too_long})
    assert response.status_code == 422
    assert f"'text' is longer than {running_api.max_text_length} characters." in html.unescape(page(response))
    response = client.post("/predict", data={"text": "   "})
    assert response.status_code == 422
    assert "'text' must not be empty or only whitespace." in html.unescape(page(response))


def test_wrong_api_key_shows_the_api_refusal(client_settings: ClientSettings, running_api: RunningApi) -> None:
    client = create_app(ClientSettings(api_url=client_settings.api_url, api_key="not-the-key")).test_client()
    before = predict(client, "the flight was late")
    response = client.post("/feedback", data=before.form)
    assert response.status_code == 401
    assert "A valid API key is required in the X-API-Key header." in html.unescape(page(response))
    after = shown(page(response))  # the answer stays, with the button to try again
    assert (after.label, after.p_negative) == (before.label, before.p_negative) and 'id="wrong"' in page(response)
    assert running_api.store.feedback_for(before.form["prediction_id"]) == []


def test_unknown_prediction_id_shows_the_api_sentence(client: FlaskClient) -> None:
    form = predict(client, "the flight was late").form
    response = client.post("/feedback", data={**form, "prediction_id": "0" * 32})
    assert response.status_code == 404
    assert "No prediction has id" in html.unescape(page(response))


def test_api_down_gives_a_clear_message(unreachable_url: str) -> None:
    client = create_app(ClientSettings(api_url=unreachable_url, api_key="k", timeout_s=2)).test_client()
    response = client.post("/predict", data={"text": "hello"})
    assert response.status_code == 503
    assert "The sentiment service cannot be reached right now." in page(response)
    assert "Traceback" not in page(response) and "Error" not in page(response)


def test_api_down_after_the_prediction_keeps_the_answer(
    client_settings: ClientSettings, unreachable_url: str, running_api: RunningApi
) -> None:
    """The API goes away between the prediction and the click: same deployment (same secret), so the
    session and its form stay valid, and the page keeps the answer with the error sentence."""
    settings = ClientSettings(api_url=client_settings.api_url, api_key=API_KEY, secret_key="one-deployment")
    up = create_app(settings).test_client()
    before = predict(up, "hello, my bag is lost")
    down = create_app(
        ClientSettings(api_url=unreachable_url, api_key=API_KEY, timeout_s=2, secret_key="one-deployment")
    )
    down_client = down.test_client()
    down_client.set_cookie("session", up.get_cookie("session").value)
    response = down_client.post("/feedback", data=before.form)
    assert response.status_code == 503 and "cannot be reached" in page(response)
    assert shown(page(response)).label == before.label and "Traceback" not in page(response)
    assert running_api.store.feedback_for(before.form["prediction_id"]) == []


def test_api_timeout_gives_a_clear_message(silent_url: str) -> None:
    client = create_app(ClientSettings(api_url=silent_url, timeout_s=0.5)).test_client()
    response = client.post("/predict", data={"text": "hello"})
    assert response.status_code == 503
    assert "The sentiment service did not answer in time." in page(response)


@pytest.mark.parametrize(
    "broken",
    [{"label": "neutral"}, {"prediction_id": ""}, {"probability_negative": "nan"}, {"threshold": "1.5"}],
)
def test_incomplete_feedback_form_is_refused_without_calling_the_api(
    client: FlaskClient, running_api: RunningApi, broken: dict[str, str]
) -> None:
    form = predict(client, "the flight was late").form
    response = client.post("/feedback", data={**form, **broken})
    assert response.status_code == 400 and "incomplete" in page(response)
    assert running_api.store.feedback_for(form["prediction_id"]) == []


def test_unknown_page_and_wrong_method_show_one_sentence(unreachable_url: str) -> None:
    client = create_app(ClientSettings(api_url=unreachable_url)).test_client()
    assert client.get("/nope").status_code == 404
    response = client.get("/predict")
    assert response.status_code == 405 and "Method Not Allowed." in page(response)
