"""Happy paths of every route, against the real tiny TF-IDF champion."""

from __future__ import annotations

from core.tracking.registry import alias_version

NEGATIVE = "my flight was delayed again, lost my bag"
POSITIVE = "what a great flight, thanks"


def test_health_and_ready(client, tracking) -> None:
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.get_json()["model"] == {"name": "air-paradise-sentiment", "version": alias_version(tracking)}


def test_predict_single(client, tracking) -> None:
    response = client.post("/predict", json={"text": NEGATIVE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["label"] == "negative" and 0.5 < body["probability_negative"] <= 1
    assert body["model"] == {"name": "air-paradise-sentiment", "version": alias_version(tracking)}
    assert len(body["prediction_id"]) == 32


def test_predict_batch_keeps_order_and_matches_single(client) -> None:
    texts = [NEGATIVE, POSITIVE, NEGATIVE]
    response = client.post("/predict", json={"texts": texts})
    assert response.status_code == 200
    predictions = response.get_json()["predictions"]
    assert [p["label"] for p in predictions] == ["negative", "positive", "negative"]
    assert predictions[0]["probability_negative"] == predictions[2]["probability_negative"]
    assert len({p["prediction_id"] for p in predictions}) == 3
    single = client.post("/predict", json={"text": POSITIVE}).get_json()
    assert single["probability_negative"] == predictions[1]["probability_negative"]


def test_predictions_are_remembered(app, client) -> None:
    body = client.post("/predict", json={"text": POSITIVE}).get_json()
    record = app.extensions["sentiment_api"].store.get_prediction(body["prediction_id"])
    assert record.text == POSITIVE and record.label == body["label"]
    assert record.probability_negative == body["probability_negative"]
    assert record.model_version == body["model"]["version"]


def test_model_describes_the_champion_run(client, trained, tracking) -> None:
    _, result = trained
    body = client.get("/model").get_json()
    champion = next(r for r in result.runs if r.version == alias_version(tracking))
    assert body["name"] == "air-paradise-sentiment" and body["version"] == champion.version
    assert body["family"] == "tfidf" and body["preprocessing"] == champion.preprocessing
    assert body["threshold"] == champion.metrics["threshold"]
    assert body["metric"] == {
        "name": "roc_auc",
        "split": "human_select",
        "value": champion.metrics["human_select_roc_auc"],
    }
    assert body["trained_at"].startswith("20") and body["run_id"] == champion.run_id
    assert body["runtime"] == "native"  # TF-IDF has no ONNX export; BERT's is tested in test_onnx_serving


def test_openapi_is_served(client) -> None:
    body = client.get("/openapi.json").get_json()
    assert body["openapi"].startswith("3.1") and "/predict" in body["paths"]
