"""The API's configuration: one typed dataclass, read from the environment only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import TrackingConfig
from core.errors import ConfigError
from core.feedback_store import DEFAULT_FEEDBACK_DB

ENV_PREFIX = "API_"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got '{raw}'.") from None


def _text(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    return raw or None


@dataclass
class ApiSettings:
    """Everything the API needs to start.

    Environment variables (see :meth:`from_env`): ``MLFLOW_TRACKING_URI``, ``API_MODEL_ALIAS``,
    ``API_MODEL_VERSION``, ``API_REGISTERED_MODEL``, ``API_KEY``, ``API_MAX_TEXT_LENGTH``,
    ``API_MAX_BATCH_SIZE``, ``API_MAX_BODY_BYTES``, ``API_FEEDBACK_DB``.
    """

    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """Store and registered model (``tracking_uri=None``: core's embedded SQLite default)."""
    model_alias: str | None = None
    """Registry alias to serve (``None``: the champion alias)."""
    model_version: str | None = None
    """A pinned version number; wins over the alias."""
    api_key: str | None = field(default=None, repr=False)
    """Secret for ``X-API-Key`` on write routes (``None``: those routes always answer 401)."""
    max_text_length: int = 1_000
    max_batch_size: int = 256
    max_body_bytes: int = 1_000_000
    feedback_db: Path = DEFAULT_FEEDBACK_DB
    """SQLite file of served predictions and feedback."""

    def __post_init__(self) -> None:
        self.feedback_db = Path(self.feedback_db)
        if self.max_text_length < 1:
            raise ConfigError("API_MAX_TEXT_LENGTH must be at least 1.")
        if self.max_batch_size < 1:
            raise ConfigError("API_MAX_BATCH_SIZE must be at least 1.")
        if self.max_body_bytes < 1_000:
            raise ConfigError("API_MAX_BODY_BYTES must be at least 1000.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """Settings from environment variables (``env`` defaults to ``os.environ``).

        Raises:
            ConfigError: a variable holds a value of the wrong type or range.
        """
        env = os.environ if env is None else env
        tracking = TrackingConfig(tracking_uri=_text(env, "MLFLOW_TRACKING_URI"))
        registered = _text(env, f"{ENV_PREFIX}REGISTERED_MODEL")
        if registered:
            tracking.registered_model = registered
        return cls(
            tracking=tracking,
            model_alias=_text(env, f"{ENV_PREFIX}MODEL_ALIAS"),
            model_version=_text(env, f"{ENV_PREFIX}MODEL_VERSION"),
            api_key=_text(env, "API_KEY"),
            max_text_length=_int(env, f"{ENV_PREFIX}MAX_TEXT_LENGTH", 1_000),
            max_batch_size=_int(env, f"{ENV_PREFIX}MAX_BATCH_SIZE", 256),
            max_body_bytes=_int(env, f"{ENV_PREFIX}MAX_BODY_BYTES", 1_000_000),
            feedback_db=Path(_text(env, f"{ENV_PREFIX}FEEDBACK_DB") or DEFAULT_FEEDBACK_DB),
        )
