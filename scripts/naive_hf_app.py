"""The naive reference service (not part of the product): a Flask app around a Hugging Face
``pipeline`` on the packaged MiniLM-L6 (PyTorch, a fresh 2-way head: only its speed matters).

What a notebook turned into a service usually is; ``scripts/benchmark_api.py --naive-hf`` serves it
under the same gunicorn settings as the API and measures it the same way.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from core.models.bert import default_checkpoint


def create_app() -> Flask:
    """``POST /predict`` (``{"text"}`` or ``{"texts": [...]}``), ``GET /ready``, ``GET /model``."""
    folder = default_checkpoint()
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
    classify = pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(folder))
    app = Flask(__name__)

    @app.get("/ready")
    def ready():
        return jsonify(status="ready")

    @app.get("/model")
    def model_info():
        return jsonify(name="naive-hf-pipeline", version="-", family="bert", preprocessing="none", runtime="torch")

    @app.post("/predict")
    def predict():
        body = request.get_json()
        texts = body["texts"] if "texts" in body else [body["text"]]
        return jsonify(predictions=[{"label": out["label"], "score": out["score"]} for out in classify(texts)])

    return app
