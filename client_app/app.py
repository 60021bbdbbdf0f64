"""The Flask application factory and its three pages."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from client_app.api_client import LABELS, SentimentApiClient, opposite_label
from client_app.errors import ApiAnswerError, ClientError
from client_app.highlighting import highlight
from client_app.settings import ClientSettings

logger = logging.getLogger(__name__)

bp = Blueprint("client", __name__)

EXTENSION = "sentiment_client"


def api() -> SentimentApiClient:
    """The current app's API client."""
    return current_app.extensions[EXTENSION]


def _error_page(error: ClientError, text: str = ""):
    """The form again with the error sentence; 4xx of the API pass through, else 503."""
    status = error.status if isinstance(error, ApiAnswerError) and 400 <= error.status < 500 else 503
    return render_template("index.html", error=str(error), text=text), status


@bp.get("/")
def index():
    """The empty form."""
    return render_template("index.html", text="")


@bp.post("/predict")
def predict():
    """Send the typed tweet to the API; show its label, its confidence and the words that decided it."""
    text = request.form.get("text", "")
    try:
        prediction = api().predict(text)
    except ClientError as error:
        return _error_page(error, text)
    try:
        segments = highlight(text, api().explain(text))
    except ClientError as error:  # the label is still worth showing without its highlights
        logger.warning("No explanation for this tweet: %s", error)
        segments = []
    return render_template("index.html", text=text, prediction=prediction, segments=segments)


@bp.post("/feedback")
def feedback():
    """Tell the API the prediction was wrong: the correct label is the opposite one."""
    text = request.form.get("text", "")
    label = request.form.get("label", "")
    prediction_id = request.form.get("prediction_id", "")
    if label not in LABELS or not prediction_id:
        return render_template(
            "index.html", error="This feedback form is incomplete; please predict again.", text=text
        ), 400
    correct = opposite_label(label)
    try:
        api().send_feedback(prediction_id, correct)
    except ClientError as error:
        return _error_page(error, text)
    return render_template("index.html", text=text, feedback_label=correct)


def _http_error(error: HTTPException):
    """Unknown page, wrong method, ...: the form with one sentence, no framework page."""
    return render_template("index.html", error=f"{error.name}.", text=""), error.code


def _server_error(error: Exception):
    """A fault of this app: logged with its traceback, shown as one sentence."""
    logger.exception("Unexpected error while serving %s", request.path)
    return render_template("index.html", error="Something went wrong on this page. Please try again.", text=""), 500


SECURITY_HEADERS = {
    # No script at all may run (the page needs none), styles only from the page itself, forms post
    # only back here, and no other site may frame it (clickjacking).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _security_headers(response):
    """Every answer carries :data:`SECURITY_HEADERS` (typed tweets are never cached either)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(settings: ClientSettings | None = None) -> Flask:
    """Build the client web app.

    Args:
        settings: where the API is (``None``: :meth:`ClientSettings.from_env`).

    Returns:
        The WSGI application.
    """
    settings = settings or ClientSettings.from_env()
    app = Flask(__name__)
    app.extensions[EXTENSION] = SentimentApiClient(settings)
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    app.after_request(_security_headers)
    logger.info("Client app talks to the API at %s", settings.api_url)
    return app
