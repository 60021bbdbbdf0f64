"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from api.errors import register_error_handlers
from api.model_holder import ModelHolder
from api.openapi import install_swagger_ui, openapi_document
from api.routes import ApiState, bp
from api.security import RateLimiter, install
from api.settings import ApiSettings
from core.monitoring.events import EventMonitor

logger = logging.getLogger(__name__)


def create_app(config: ApiSettings | None = None) -> Flask:
    """Build the API: load the model once (the app starts even when that fails), set up monitoring, and
    generate the OpenAPI document with these settings' limits (served at ``/openapi.json``, shown at ``/docs``).

    The event store is opened lazily: an unreachable store never stops the API from starting
    or predicting (prediction events are then counted as failed, feedback answers 503).

    Args:
        config: settings (``None``: :meth:`ApiSettings.from_env`).

    Returns:
        The WSGI application.
    """
    settings = config or ApiSettings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    holder = ModelHolder(
        settings.tracking, alias=settings.model_alias, version=settings.model_version, runtime=settings.model_runtime
    )
    holder.start()
    if not settings.api_key:
        logger.warning("API_KEY is not set: /feedback and /model/reload will refuse every request.")
    monitor = EventMonitor(settings.monitoring)
    app.extensions["sentiment_api"] = ApiState(settings, holder, monitor.store, monitor, openapi_document(settings))
    app.register_blueprint(bp)
    install_swagger_ui(app)
    register_error_handlers(app)
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    install(app, limiter, settings.api_key, settings.cors_origins, settings.trusted_proxies)
    return app
