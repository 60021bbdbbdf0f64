"""The Flask application factory and its three pages."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from client_app.api_client import LABELS, Prediction, SentimentApiClient, opposite_label
from client_app.csrf import FIELD, CsrfError, check_csrf, csrf_token, signing_key
from client_app.decision import decision
from client_app.errors import ApiAnswerError, ApiUnavailableError, ClientError
from client_app.highlighting import Segment, highlight
from client_app.settings import ClientSettings

logger = logging.getLogger(__name__)

bp = Blueprint("client", __name__)

EXTENSION = "sentiment_client"


def api() -> SentimentApiClient:
    """The current app's API client."""
    return current_app.extensions[EXTENSION]


def _status(error: ClientError) -> int:
    """400 for a refused form, the API's own 4xx, else 503 (the API is down or answered a 5xx)."""
    if isinstance(error, CsrfError):
        return 400
    return error.status if isinstance(error, ApiAnswerError) and 400 <= error.status < 500 else 503


def _page(
    text: str,
    prediction: Prediction | None = None,
    segments: list[Segment] | None = None,
    error: ClientError | str | None = None,
    feedback_label: str | None = None,
) -> str:
    """The page: the form with ``text``, and the prediction (the tweet highlighted by ``segments``, its
    label, P(negative) against the threshold), the error sentence, the feedback confirmation, if any."""
    return render_template(
        "index.html",
        text=text,
        prediction=prediction,
        decision=decision(prediction) if prediction else None,
        segments=segments or [],
        error=str(error) if error else None,
        feedback_label=feedback_label,
    )


def _segments(text: str, model: tuple[str, str] | None = None) -> list[Segment]:
    """The tweet cut for highlighting; none when the API cannot explain it, or explains it with a model
    other than ``model`` (when given: the API reloaded since the prediction)."""
    try:
        explanation = api().explain(text)
    except ClientError as error:  # the label is still worth showing without its highlights
        logger.warning("No explanation for this tweet: %s", error)
        return []
    if model is not None and explanation.model not in (None, model):
        logger.info("No highlights: the API explains with %s, the prediction came from %s.", explanation.model, model)
        return []
    return highlight(text, explanation)


@bp.get("/")
def index():
    """The empty form."""
    return _page("")


@bp.post("/predict")
def predict():
    """Send the typed tweet to the API; show its label, P(negative) against the threshold and the words
    that decided it."""
    text = request.form.get("text", "")
    try:
        prediction = api().predict(text)
    except ClientError as error:
        return _page(text, error=error), _status(error)
    return _page(text, prediction, _segments(text))


def _posted_prediction() -> Prediction | None:
    """The prediction the feedback form carries back in hidden fields; ``None`` if a field is missing or
    malformed."""
    form = request.form
    fields = [form.get(name, "") for name in ("prediction_id", "label", "model_name", "model_version")]
    try:
        probability = float(form.get("probability_negative", ""))
        threshold = float(form["threshold"]) if form.get("threshold") else None
    except ValueError:
        return None
    in_range = all(v is None or 0.0 <= v <= 1.0 for v in (probability, threshold))  # refuses NaN too
    if not in_range or not all(fields) or fields[1] not in LABELS:
        return None
    prediction_id, label, model_name, model_version = fields
    return Prediction(prediction_id, label, probability, model_name, model_version, threshold)


@bp.post("/feedback")
def feedback():
    """Tell the API the prediction was wrong (the correct label is the opposite one); the page keeps the
    tweet and its answer, and confirms. Only a post of this app's own form, in the session it was
    rendered for, reaches the API (:mod:`client_app.csrf`)."""
    text = request.form.get("text", "")
    try:
        check_csrf()
    except CsrfError as error:
        return _page(text, error=error), _status(error)
    prediction = _posted_prediction()
    if prediction is None:
        return _page(text, error="This feedback form is incomplete; please predict again."), 400
    correct = opposite_label(prediction.label)
    model = (prediction.model_name, prediction.model_version)
    try:
        api().send_feedback(prediction.prediction_id, correct)
    except ApiUnavailableError as error:  # no highlights: asking the API again would only wait once more
        return _page(text, prediction, error=error), _status(error)
    except ClientError as error:
        return _page(text, prediction, _segments(text, model), error=error), _status(error)
    return _page(text, prediction, _segments(text, model), feedback_label=correct)


def _http_error(error: HTTPException):
    """Unknown page, wrong method, ...: the form with one sentence, no framework page."""
    return _page("", error=f"{error.name}."), error.code


def _server_error(error: Exception):
    """A fault of this app: logged with its traceback, shown as one sentence."""
    logger.exception("Unexpected error while serving %s", request.path)
    return _page("", error="Something went wrong on this page. Please try again."), 500


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
    app.secret_key = signing_key(settings.secret_key, settings.api_key)
    # Lax: the browser sends the session cookie with no cross-site POST, a second guard of the form.
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=FIELD)
    app.extensions[EXTENSION] = SentimentApiClient(settings)
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    app.after_request(_security_headers)
    logger.info("Client app talks to the API at %s", settings.api_url)
    return app
