"""The client app's pages through Flask's test client, against the real API over loopback HTTP."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from client_app import ClientSettings, create_app
from tests.client_app.conftest import RunningApi

LABEL_LINE = re.compile(r'id="label" class="label">(negative|positive) — (\d{1,3})%<')
PREDICTION_ID = re.compile(r'name="prediction_id" value="([0-9a-f]+)"')


def page(response) -> str:
    return response.get_data(as_text=True)


def predict(client: FlaskClient, text: str) -> tuple[str, str]:
    """Submit ``text``; return the shown label and the prediction id carried by the feedback form."""
    label, _, prediction_id = predict_shown(client, text)
    return label, prediction_id


def predict_shown(client: FlaskClient, text: str) -> tuple[str, int, str]:
    """Submit ``text``; return the shown label, the shown percentage and the prediction id."""
    response = client.post("/predict", data={"text": text})
    assert response.status_code == 200, page(response)
    label = LABEL_LINE.search(page(response))
    prediction_id = PREDICTION_ID.search(page(response))
    assert label and prediction_id, page(response)
    return label.group(1), int(label.group(2)), prediction_id.group(1)


def test_index_shows_the_form(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'name="text"' in page(response) and 'id="submit"' in page(response)


def test_submit_shows_label_and_confidence(client: FlaskClient, running_api: RunningApi) -> None:
    negative, shown_percent, negative_id = predict_shown(client, "lost my bag again")
    positive, _ = predict(client, "great crew, thanks")
    assert (negative, positive) == ("negative", "positive")
    served = running_api.served(negative_id)
    assert served is not None and served.label == "negative"
    assert shown_percent == round(served.probability_negative * 100)  # confidence of the shown label


def test_wrong_prediction_stores_the_opposite_label(client: FlaskClient, running_api: RunningApi) -> None:
    text = "lost my bag again, worst airline ever"
    label, prediction_id = predict(client, text)
    response = client.post("/feedback", data={"prediction_id": prediction_id, "label": label, "text": text})
    assert response.status_code == 200, page(response)
    assert 'id="confirmation"' in page(response)
    opposite = {"negative": "positive", "positive": "negative"}[label]
    assert f"<strong>{opposite}</strong>" in page(response)
    assert [f.correct_label for f in running_api.store.feedback_for(prediction_id)] == [opposite]


def test_tweet_text_is_escaped_everywhere(client: FlaskClient, running_api: RunningApi) -> None:
    script = "<script>alert(1)</script>"
    response = client.post("/predict", data={"text": script})
    assert response.status_code == 200
    assert script not in page(response)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page(response)
    prediction_id = PREDICTION_ID.search(page(response)).group(1)
    response = client.post("/feedback", data={"prediction_id": prediction_id, "label": "negative", "text": script})
    assert response.status_code == 200 and script not in page(response)
    assert running_api.served(prediction_id).text == script  # the API got the raw text


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
    label, prediction_id = predict(client, "the flight was late")
    response = client.post("/feedback", data={"prediction_id": prediction_id, "label": label, "text": "x"})
    assert response.status_code == 401
    assert "A valid API key is required in the X-API-Key header." in html.unescape(page(response))
    assert running_api.store.feedback_for(prediction_id) == []


def test_unknown_prediction_id_shows_the_api_sentence(client: FlaskClient) -> None:
    response = client.post("/feedback", data={"prediction_id": "0" * 32, "label": "negative", "text": "x"})
    assert response.status_code == 404
    assert "No prediction has id" in html.unescape(page(response))


def test_api_down_gives_a_clear_message(unreachable_url: str) -> None:
    client = create_app(ClientSettings(api_url=unreachable_url, api_key="k", timeout_s=2)).test_client()
    response = client.post("/predict", data={"text": "hello"})
    assert response.status_code == 503
    assert "The sentiment service cannot be reached right now." in page(response)
    assert "Traceback" not in page(response) and "Error" not in page(response)
    response = client.post("/feedback", data={"prediction_id": "abc", "label": "positive", "text": "hello"})
    assert response.status_code == 503 and "cannot be reached" in page(response)


def test_api_timeout_gives_a_clear_message(silent_url: str) -> None:
    client = create_app(ClientSettings(api_url=silent_url, timeout_s=0.5)).test_client()
    response = client.post("/predict", data={"text": "hello"})
    assert response.status_code == 503
    assert "The sentiment service did not answer in time." in page(response)


def test_incomplete_feedback_form_is_refused_without_calling_the_api(unreachable_url: str) -> None:
    client = create_app(ClientSettings(api_url=unreachable_url)).test_client()
    response = client.post("/feedback", data={"prediction_id": "abc", "label": "neutral"})
    assert response.status_code == 400 and "incomplete" in page(response)


def test_unknown_page_and_wrong_method_show_one_sentence(unreachable_url: str) -> None:
    client = create_app(ClientSettings(api_url=unreachable_url)).test_client()
    assert client.get("/nope").status_code == 404
    response = client.get("/predict")
    assert response.status_code == 405 and "Method Not Allowed." in page(response)
