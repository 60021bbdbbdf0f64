"""The API's configuration: one typed dataclass, read from the environment only.

A dataclass rather than a pydantic-settings class, because it is the simpler of the two here: the settings hold
core's own configs (:class:`TrackingConfig`, :class:`MonitoringConfig`, read by their own ``from_env``),
:meth:`ApiSettings.from_env` reads an explicit mapping (tests pass a dict; a ``BaseSettings`` built in a test
would read the ambient environment), and every bad value must be a :class:`ConfigError` naming its variable.
Each default is written once, on its field: :meth:`ApiSettings.from_env` passes only the variables that are set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import DEFAULT_EVENT_DB, TrackingConfig
from core.errors import ConfigError
from core.models import RUNTIMES
from core.monitoring.settings import MonitoringConfig
from core.serving.environment import env_int
from core.serving.environment import env_text as _text

DEFAULT_FEEDBACK_DB = DEFAULT_EVENT_DB

ENV_PREFIX = "API_"

_INT_SETTINGS = (
    "rate_limit_per_minute",
    "rate_limit_burst",
    "trusted_proxies",
    "max_text_length",
    "max_batch_size",
    "max_body_bytes",
)
"""Integer settings, each read from ``API_`` + its name in capitals."""
_TEXT_SETTINGS = ("model_alias", "model_version", "model_runtime")


def api_key_from_env(env: Mapping[str, str]) -> str | None:
    """The API key: ``API_KEY``, or the first line of the secrets file ``API_KEY_FILE`` (e.g. a Docker or
    Kubernetes secret mounted as a file); never both.

    Raises:
        ConfigError: both are set, or the file cannot be read or is empty.
    """
    key, path = _text(env, "API_KEY"), _text(env, "API_KEY_FILE")
    if key and path:
        raise ConfigError("Set API_KEY or API_KEY_FILE, not both.")
    if not path:
        return key
    try:
        lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"API_KEY_FILE '{path}' cannot be read ({type(exc).__name__}).") from None
    if not lines or not lines[0].strip():
        raise ConfigError(f"API_KEY_FILE '{path}' is empty.")
    return lines[0].strip()


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in (_text(env, "API_CORS_ORIGINS") or "").split(",") if o.strip())
    for origin in origins:
        if origin == "*" or not origin.startswith(("http://", "https://")):
            raise ConfigError(f"API_CORS_ORIGINS must list exact http(s) origins (no '*'), got '{origin}'.")
    return origins


@dataclass
class ApiSettings:
    """Everything the API needs to start.

    Environment variables (see :meth:`from_env`): ``MLFLOW_TRACKING_URI``, ``API_MODEL_ALIAS``,
    ``API_MODEL_VERSION``, ``API_MODEL_RUNTIME``, ``API_REGISTERED_MODEL``, ``API_KEY`` (or ``API_KEY_FILE``),
    ``API_RATE_LIMIT_PER_MINUTE``, ``API_RATE_LIMIT_BURST``, ``API_CORS_ORIGINS``, ``API_TRUSTED_PROXIES``,
    ``API_MAX_TEXT_LENGTH``,
    ``API_MAX_BATCH_SIZE``, ``API_MAX_BODY_BYTES``, ``API_FEEDBACK_DB``, and the monitoring variables
    of :meth:`core.monitoring.settings.MonitoringConfig.from_env`.
    """

    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """Store and registered model (``tracking_uri=None``: core's embedded SQLite default)."""
    model_alias: str | None = None
    """Registry alias to serve (``None``: the champion alias)."""
    model_version: str | None = None
    """A pinned version number; wins over the alias."""
    model_runtime: str = "auto"
    """What scores tweets: ``auto`` (ONNX Runtime on the fastest export the model has, int8 first, else its own
    framework), ``native``, ``onnx`` or ``onnx_int8`` (see :func:`core.models.load_scorer`)."""
    api_key: str | None = field(default=None, repr=False)
    """Secret for ``X-API-Key`` on write routes (``None``: those routes always answer 401)."""
    rate_limit_per_minute: int = 6_000
    """Requests a minute per client (the valid API key, else the address) in each worker; ``0``: no limit."""
    rate_limit_burst: int = 200
    """Requests a client may send at once before the per-minute rate applies."""
    cors_origins: tuple[str, ...] = ()
    """Origins a browser may call the API from (the client app's); empty: no cross-origin calls."""
    trusted_proxies: int = 0
    """Reverse proxies in front of the API whose ``X-Forwarded-For`` names the client (rate limit per address)."""
    max_text_length: int = 1_000
    """Characters a tweet may have (``/predict``, ``/explain``; the OpenAPI document's ``maxLength``)."""
    max_batch_size: int = 256
    """Tweets one ``/predict`` batch may hold (the OpenAPI document's ``maxItems``)."""
    max_body_bytes: int = 1_000_000
    """Largest request body; a larger one is refused with 413."""
    feedback_db: Path = DEFAULT_FEEDBACK_DB
    """SQLite file of served predictions and feedback (unless ``monitoring.store_url`` names another store)."""
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    """Event store, privacy, Application Insights and the alert rule (its ``store_path`` is ``feedback_db``)."""

    def __post_init__(self) -> None:
        self.feedback_db = Path(self.feedback_db)
        self.monitoring.store_path = self.feedback_db
        if self.model_runtime not in RUNTIMES:
            raise ConfigError(f"API_MODEL_RUNTIME must be one of {', '.join(RUNTIMES)}, got '{self.model_runtime}'.")
        if self.max_text_length < 1:
            raise ConfigError("API_MAX_TEXT_LENGTH must be at least 1.")
        if self.max_batch_size < 1:
            raise ConfigError("API_MAX_BATCH_SIZE must be at least 1.")
        if self.max_body_bytes < 1_000:
            raise ConfigError("API_MAX_BODY_BYTES must be at least 1000.")
        if self.rate_limit_per_minute < 0 or self.rate_limit_burst < 1:
            raise ConfigError("API_RATE_LIMIT_PER_MINUTE must be >= 0 and API_RATE_LIMIT_BURST >= 1.")
        if self.trusted_proxies < 0:
            raise ConfigError("API_TRUSTED_PROXIES must be >= 0.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """Settings from environment variables (``env`` defaults to ``os.environ``); an unset or blank
        variable keeps its field's default.

        Raises:
            ConfigError: a variable holds a value of the wrong type or range.
        """
        env = os.environ if env is None else env
        tracking = TrackingConfig(tracking_uri=_text(env, "MLFLOW_TRACKING_URI"))
        registered = _text(env, f"{ENV_PREFIX}REGISTERED_MODEL")
        if registered:
            tracking.registered_model = registered
        feedback_db = Path(_text(env, f"{ENV_PREFIX}FEEDBACK_DB") or DEFAULT_FEEDBACK_DB)
        given: dict[str, object] = {}
        for name in _TEXT_SETTINGS:
            if (value := _text(env, ENV_PREFIX + name.upper())) is not None:
                given[name] = value
        for name in _INT_SETTINGS:
            variable = ENV_PREFIX + name.upper()
            if _text(env, variable) is not None:
                given[name] = env_int(env, variable, default=0)  # set, so this default is never used
        return cls(
            tracking=tracking,
            api_key=api_key_from_env(env),
            cors_origins=_origins(env),
            feedback_db=feedback_db,
            monitoring=MonitoringConfig.from_env(env, feedback_db),
            **given,
        )
