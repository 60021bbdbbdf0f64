"""Cross-site request forgery guard of the feedback form.

Two checks, both before anything is sent to the API:

* a token: a random nonce kept in this person's session (Flask's signed cookie, ``SameSite=Lax``),
  put in the form signed and time-stamped (``itsdangerous``); another site can neither read it nor
  forge it, so its posts carry none or a wrong one;
* the ``Origin`` (else ``Referer``) header, when the browser sends one, must name this host.

The page answers with ``Referrer-Policy: no-referrer``, under which browsers (Chromium checked) send
``Origin: null`` and no ``Referer`` on its own form posts: ``null``, like a missing header, says
nothing, so the token decides alone. A hostile page can get ``null`` sent too (by the same policy):
the header check only stops the plain cross-site post; the token is the guard.
Only the host is compared, not the scheme: behind a proxy that ends TLS, the browser's
``https://host`` reaches this app as plain HTTP with the same ``Host``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from flask import current_app, request, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from client_app.errors import ClientError

logger = logging.getLogger(__name__)

FIELD = "csrf_token"
"""Name of the form field that carries the token."""
SESSION_KEY = "csrf_nonce"
SALT = "client_app.feedback-form"
MAX_AGE_S = 3600
"""A form older than this is refused (the person predicts again); Flask-WTF's default too."""


class CsrfError(ClientError):
    """A post that may not come from this app's own page: refused with 400, nothing sent to the API."""


def signing_key(secret_key: str | None, api_key: str | None) -> str:
    """The key that signs the session cookie and the tokens.

    Args:
        secret_key: ``CLIENT_SECRET_KEY``, used as is when set.
        api_key: ``CLIENT_API_KEY``; without a secret key, a one-way derivation of it, so every worker of
            one deployment signs alike (the image runs two gunicorn workers) and the API key itself
            never signs anything the browser holds.

    Returns:
        The key; a random one (valid in this process only) when neither is set.
    """
    if secret_key:
        return secret_key
    if api_key:
        return hmac.new(api_key.encode(), b"client_app session signing key", hashlib.sha256).hexdigest()
    logger.warning(
        "Neither CLIENT_SECRET_KEY nor CLIENT_API_KEY is set: feedback forms are valid in this process only."
    )
    return secrets.token_hex(32)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def csrf_token() -> str:
    """The token for a form on the page being rendered (starts this person's session if needed)."""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return _serializer().dumps(session[SESSION_KEY])


def _check_origin() -> None:
    """Refuse a post whose ``Origin`` (else ``Referer``) names another host.

    Raises:
        CsrfError: the header names another host.
    """
    origin = request.headers.get("Origin")
    source = origin if origin and origin != "null" else request.headers.get("Referer")
    if source and urlsplit(source).netloc.lower() != request.host.lower():
        logger.warning("Refused a post to %s from another site.", request.path)
        raise CsrfError("This feedback was refused: it was not sent from this page. Please predict the tweet again.")


def check_csrf() -> None:
    """Refuse the current post unless it comes from a form this app rendered in this session.

    Raises:
        CsrfError: a foreign ``Origin``/``Referer``, or a missing, wrong, foreign or expired token.
    """
    _check_origin()
    token = request.form.get(FIELD, "")
    nonce = session.get(SESSION_KEY)
    try:
        signed = _serializer().loads(token, max_age=MAX_AGE_S) if token and nonce else None
    except SignatureExpired:
        raise CsrfError("This feedback form has expired. Please predict the tweet again.") from None
    except BadSignature:
        signed = None
    if not isinstance(signed, str) or not hmac.compare_digest(signed, nonce):
        logger.warning("Refused a post to %s without a valid form token.", request.path)
        raise CsrfError(
            "This feedback was refused: the form did not come from this page. Please predict the tweet again."
        )
