"""Web page of the Air Paradise tweet sentiment product (Flask, server-rendered HTML).

A person types or pastes a tweet, sees the predicted label with P(negative) against the model's
decision threshold (e.g. "negative · P(negative) 0.41 ≥ threshold 0.35"; the threshold from the
API's ``/predict`` answer, else its ``GET /model``), and can click "Wrong prediction" to send the
opposite label as feedback; the tweet and its answer stay on the page with a confirmation.
The app talks to the prediction API over HTTP only (``requests``); it never imports ``api``
or ``core``.

Run::

    CLIENT_API_URL=http://127.0.0.1:8000 CLIENT_API_KEY=... flask --app client_app run -p 8501
    # or
    CLIENT_API_URL=http://127.0.0.1:8000 CLIENT_API_KEY=... gunicorn -b 0.0.0.0:8501 "client_app:create_app()"

Environment (see :class:`ClientSettings`): ``CLIENT_API_URL`` (default
``http://127.0.0.1:8000``), ``CLIENT_API_KEY`` (the API's ``X-API-Key`` secret, needed to
send feedback; never logged or shown), ``CLIENT_API_TIMEOUT_S`` (default 5 seconds),
``CLIENT_SECRET_KEY`` (signs the session cookie and the feedback form's token; set the same value
in every worker, else it is derived from ``CLIENT_API_KEY``).

Pages::

    GET  /           the form
    POST /predict    form field ``text`` -> the label, P(negative) and threshold, or the API's error sentence
    POST /feedback   the result's form (``csrf_token``, ``prediction_id``, ``label`` (the predicted one),
                     ``probability_negative``, ``threshold``, ``model_name``, ``model_version``, ``text``)
                     -> sends the opposite label to the API's ``/feedback``; the answer stays, confirmed.
                     Without a valid token of this session, or from another site's ``Origin``: 400,
                     and nothing reaches the API (see :mod:`client_app.csrf`).

When the API cannot be reached (refused, timeout) or answers an error, the page says so in
one sentence (the API's own ``error`` sentence when it gives one); never a traceback.
"""

from client_app.app import create_app
from client_app.settings import ClientSettings

__all__ = ["ClientSettings", "create_app"]
