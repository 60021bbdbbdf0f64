"""The serving side's monitoring settings: event store, privacy, Application Insights and alerts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config.checks import check as _check
from core.config.paths import DEFAULT_EVENT_DB
from core.serving.environment import env_bool, env_float, env_int, env_text

TEXT_MODES = ("full", "hash")


@dataclass
class AlertConfig:
    """The misclassification alert rule and where its alerts go (see :mod:`core.monitoring.alerts`)."""

    min_errors: int = 3
    """Alert when at least this many predictions are flagged wrong ..."""
    window_minutes: float = 5.0
    """... within this many minutes."""
    cooldown_minutes: float = 30.0
    """No second alert within this many minutes of the last one (no alert storm)."""
    smtp_host: str | None = None
    """SMTP server for alert mail (``None``: no mail)."""
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    mail_from: str = "sentiment-alerts@localhost"
    mail_to: tuple[str, ...] = ()
    webhook_url: str | None = None
    """URL that receives each alert as a JSON POST (``None``: no webhook)."""
    timeout_s: float = 10.0
    """Network timeout of one mail or webhook delivery."""

    def __post_init__(self) -> None:
        self.mail_to = tuple(self.mail_to)
        _check(self.min_errors >= 1, "alerts.min_errors must be at least 1.")
        _check(self.window_minutes > 0, "alerts.window_minutes must be positive.")
        _check(self.cooldown_minutes >= 0, "alerts.cooldown_minutes must not be negative.")
        _check(not (self.smtp_host and not self.mail_to), "Alert mail needs at least one recipient (mail_to).")


@dataclass
class MonitoringConfig:
    """Prediction events, their store, Application Insights and the alert rule."""

    store_url: str | None = None
    """SQLAlchemy URL of the event store (``sqlite:///...`` or ``postgresql://...``); ``None``: SQLite file."""
    store_path: Path = DEFAULT_EVENT_DB
    """SQLite file used when ``store_url`` is ``None`` (WAL mode)."""
    text_mode: str = "full"
    """Privacy: ``full`` stores each tweet's text, ``hash`` only its SHA-256 (and length)."""
    queue_size: int = 10_000
    """Prediction events waiting to be written; beyond it new events are dropped and counted."""
    write_delay_ms: float = 0.0
    """Artificial delay before each store write (to test a slow store; 0 in production)."""
    connection_string: str | None = field(default=None, repr=False)
    """Application Insights connection string (``None``: no telemetry)."""
    alerts: AlertConfig = field(default_factory=AlertConfig)

    def __post_init__(self) -> None:
        self.store_path = Path(self.store_path)
        _check(self.text_mode in TEXT_MODES, f"text_mode must be one of {', '.join(TEXT_MODES)}.")
        _check(self.queue_size >= 1, "queue_size must be at least 1.")
        _check(self.write_delay_ms >= 0, "write_delay_ms must not be negative.")

    @property
    def resolved_store_url(self) -> str:
        """The store URL in use: ``store_url``, else the SQLite file."""
        return self.store_url or f"sqlite:///{self.store_path.resolve()}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, feedback_db: Path | None = None) -> MonitoringConfig:
        """Event store, privacy, Application Insights and alert settings from the environment.

        ``EVENT_STORE_URL`` (SQLAlchemy URL; default: the SQLite file ``feedback_db``, else
        ``API_FEEDBACK_DB``, else ``.data/feedback.db``),
        ``EVENT_STORE_TEXT`` (``full`` or ``hash``), ``API_EVENT_QUEUE_SIZE``, ``API_EVENT_WRITE_DELAY_MS``,
        ``APPLICATIONINSIGHTS_CONNECTION_STRING``, ``ALERT_MIN_ERRORS`` (3), ``ALERT_WINDOW_MINUTES`` (5),
        ``ALERT_COOLDOWN_MINUTES`` (30), ``ALERT_SMTP_HOST``, ``ALERT_SMTP_PORT`` (25), ``ALERT_SMTP_USER``,
        ``ALERT_SMTP_PASSWORD``, ``ALERT_SMTP_STARTTLS``, ``ALERT_MAIL_FROM``, ``ALERT_MAIL_TO`` (comma-separated),
        ``ALERT_WEBHOOK_URL``.
        """
        env = os.environ if env is None else env
        alerts = AlertConfig(
            min_errors=env_int(env, "ALERT_MIN_ERRORS", 3),
            window_minutes=env_float(env, "ALERT_WINDOW_MINUTES", 5.0),
            cooldown_minutes=env_float(env, "ALERT_COOLDOWN_MINUTES", 30.0),
            smtp_host=env_text(env, "ALERT_SMTP_HOST"),
            smtp_port=env_int(env, "ALERT_SMTP_PORT", 25),
            smtp_user=env_text(env, "ALERT_SMTP_USER"),
            smtp_password=env_text(env, "ALERT_SMTP_PASSWORD"),
            smtp_starttls=env_bool(env, "ALERT_SMTP_STARTTLS"),
            mail_from=env_text(env, "ALERT_MAIL_FROM") or "sentiment-alerts@localhost",
            mail_to=tuple(a.strip() for a in (env_text(env, "ALERT_MAIL_TO") or "").split(",") if a.strip()),
            webhook_url=env_text(env, "ALERT_WEBHOOK_URL"),
        )
        return cls(
            store_url=env_text(env, "EVENT_STORE_URL"),
            store_path=Path(feedback_db or env_text(env, "API_FEEDBACK_DB") or DEFAULT_EVENT_DB),
            text_mode=(env_text(env, "EVENT_STORE_TEXT") or "full").lower(),
            queue_size=env_int(env, "API_EVENT_QUEUE_SIZE", 10_000),
            write_delay_ms=env_float(env, "API_EVENT_WRITE_DELAY_MS", 0.0),
            connection_string=env_text(env, "APPLICATIONINSIGHTS_CONNECTION_STRING"),
            alerts=alerts,
        )
