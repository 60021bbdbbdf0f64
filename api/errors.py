"""Every failure answers JSON ``{"error": "<one sentence>"}`` with the right status; never a 500
for anything a client can send."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from api.model_holder import ModelUnavailableError, ReloadError
from api.schemas import Error
from core.monitoring.event_store import PredictionNotFoundError, StoreUnavailableError

logger = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: "The request is malformed.",
    404: "No such route.",
    405: "This route does not accept that method.",
    413: "The request body is too large.",
    415: "The request body must be JSON (Content-Type: application/json).",
}


class ApiError(Exception):
    """A client error with its HTTP status and one clear sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> tuple[Response, int]:
    """The JSON error body (:class:`api.schemas.Error`) with ``status``."""
    return jsonify(Error(error=message).model_dump()), status


def register_error_handlers(app: Flask) -> None:
    """Install the JSON handlers on ``app``."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message)

    @app.errorhandler(ModelUnavailableError)
    def _unavailable(exc: ModelUnavailableError):
        return error_response(503, f"No model is loaded: {exc}")

    @app.errorhandler(ReloadError)
    def _reload_failed(exc: ReloadError):
        return error_response(503, f"Reload failed: {exc}")

    @app.errorhandler(PredictionNotFoundError)
    def _unknown_prediction(exc: PredictionNotFoundError):
        return error_response(404, str(exc))

    @app.errorhandler(StoreUnavailableError)
    def _store_unavailable(exc: StoreUnavailableError):
        logger.error("Event store: %s", exc.__cause__ or exc)
        return error_response(503, f"{exc} The feedback was not recorded; try again later.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        response, status = error_response(status, _HTTP_MESSAGES.get(status, exc.name + "."))
        for name, value in exc.get_headers():  # e.g. 405's Allow (RFC 9110), not the HTML content type
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        logger.exception("Unhandled error")
        return error_response(500, "Internal error; it has been logged.")
