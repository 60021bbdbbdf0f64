"""The client app's configuration: one typed dataclass, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from client_app.errors import ClientConfigError

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 5.0


@dataclass
class ClientSettings:
    """Where the prediction API is and how to talk to it.

    Environment variables (see :meth:`from_env`): ``CLIENT_API_URL``, ``CLIENT_API_KEY``,
    ``CLIENT_API_TIMEOUT_S``, ``CLIENT_SECRET_KEY``.
    """

    api_url: str = DEFAULT_API_URL
    """Base URL of the prediction API (no trailing slash needed)."""
    api_key: str | None = field(default=None, repr=False)
    """Secret sent as ``X-API-Key`` with feedback (``None``: the API will refuse feedback)."""
    timeout_s: float = DEFAULT_TIMEOUT_S
    """Seconds to wait for the API to connect and to answer."""
    secret_key: str | None = field(default=None, repr=False)
    """Signs the session cookie and the feedback form's token; the same in every worker of a deployment
    (``None``: derived from ``api_key``, see :func:`client_app.csrf.signing_key`)."""

    def __post_init__(self) -> None:
        self.api_url = self.api_url.strip().rstrip("/")
        if not self.api_url.startswith(("http://", "https://")):
            raise ClientConfigError(f"CLIENT_API_URL must start with http:// or https://, got '{self.api_url}'.")
        if self.timeout_s <= 0:
            raise ClientConfigError("CLIENT_API_TIMEOUT_S must be a positive number of seconds.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientSettings:
        """Settings from environment variables (``env`` defaults to ``os.environ``).

        Raises:
            ClientConfigError: a variable holds a malformed value.
        """
        env = os.environ if env is None else env
        raw_timeout = env.get("CLIENT_API_TIMEOUT_S", "").strip()
        try:
            timeout_s = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT_S
        except ValueError:
            raise ClientConfigError(f"CLIENT_API_TIMEOUT_S must be a number, got '{raw_timeout}'.") from None
        return cls(
            api_url=env.get("CLIENT_API_URL", "").strip() or DEFAULT_API_URL,
            api_key=env.get("CLIENT_API_KEY", "").strip() or None,
            timeout_s=timeout_s,
            secret_key=env.get("CLIENT_SECRET_KEY", "").strip() or None,
        )
