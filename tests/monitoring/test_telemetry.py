"""Application Insights: the real exporter sends prediction traces and misclassified-tweet events
to an ingestion server on loopback; the test asserts on the envelopes it received."""

from __future__ import annotations

from api import create_app
from core.monitoring.telemetry import MISCLASSIFIED_EVENT
from tests.monitoring.conftest import KEY, api_settings, connection_string, envelopes, wait_for

TWEET = "thanks for losing my luggage, great job"


def test_predictions_and_misclassified_tweets_reach_application_insights(tracking, tmp_path, ingestion) -> None:
    settings = api_settings(tracking, tmp_path / "events.db")
    settings.monitoring.connection_string = connection_string(ingestion)
    app = create_app(settings)
    events = app.extensions["sentiment_api"].events
    telemetry = events.telemetry
    client = app.test_client()
    assert client.get("/monitoring").get_json()["telemetry"] is True
    served = client.post("/predict", json={"text": TWEET}).get_json()
    wrong = "positive" if served["label"] == "negative" else "negative"
    response = client.post(
        "/feedback", json={"prediction_id": served["prediction_id"], "correct_label": wrong}, headers=KEY
    )
    assert response.status_code == 201
    assert events.recorder.flush(10)
    telemetry.flush()

    assert wait_for(lambda: envelopes(ingestion, "EventData") and envelopes(ingestion, "MessageData"))
    (event,) = envelopes(ingestion, "EventData")
    assert event["iKey"] == "00000000-0000-0000-0000-000000000000"
    assert event["data"]["baseData"]["name"] == MISCLASSIFIED_EVENT
    dims = event["data"]["baseData"]["properties"]
    assert dims["text"] == TWEET and dims["prediction_id"] == served["prediction_id"]
    assert (dims["predicted_label"], dims["correct_label"]) == (served["label"], wrong)
    assert float(dims["probability_negative"]) == round(served["probability_negative"], 6)
    assert dims["model_version"] == served["model"]["version"] and dims["model_name"] == served["model"]["name"]

    (trace,) = envelopes(ingestion, "MessageData")
    assert trace["data"]["baseData"]["message"] == "prediction"
    props = trace["data"]["baseData"]["properties"]
    assert props["prediction_id"] == served["prediction_id"] and props["label"] == served["label"]
    assert int(props["text_length"]) == len(TWEET) and "text" not in props
    telemetry.close()
