"""The misclassification alert: N tweets flagged wrong within T minutes -> one alert, then a cool-down.

The rule reads its state from the event store (flagged feedback, the last alert time), so it is
shared by every gunicorn worker and survives a crash or a restart: nothing lives only in memory.
Claiming an alert is one atomic conditional UPDATE (:meth:`EventStore.claim_alert`), so two
workers never both send it. Delivery (SMTP mail, webhook POST) runs on a background thread:
a slow or failing mail server never delays the feedback request, and a failure is logged.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from core.monitoring.event_store import EventStore, FlaggedError, now_utc
from core.monitoring.settings import AlertConfig

logger = logging.getLogger(__name__)

RULE = "misclassified-tweets"


@dataclass(frozen=True)
class Alert:
    """One raised alert and the flagged tweets that triggered it."""

    id: int
    rule: str
    raised_at: str
    min_errors: int
    window_minutes: float
    flagged: tuple[FlaggedError, ...]

    @property
    def subject(self) -> str:
        """The mail subject."""
        return (
            f"[Air Paradise sentiment] {len(self.flagged)} misclassified tweets "
            f"in the last {self.window_minutes:g} minutes"
        )

    def body(self) -> str:
        """Plain-text mail body: the rule, then each flagged tweet."""
        lines = [
            f"Users flagged {len(self.flagged)} predictions as wrong within {self.window_minutes:g} minutes "
            f"(rule: at least {self.min_errors}). Raised at {self.raised_at}.",
            "",
        ]
        for i, flag in enumerate(self.flagged, 1):
            p = flag.prediction
            text = p.text if p.text is not None else f"[text not stored; sha256 {p.text_hash}]"
            lines += [
                f"{i}. {text}",
                f"   predicted {p.label} (P(negative)={p.probability_negative:.3f}), users say {flag.correct_label}; "
                f"model {p.model_name} v{p.model_version}; prediction {p.id}; flagged {flag.flagged_at}",
            ]
        lines += ["", "Review them, and retrain with: python -m core retrain --with-feedback"]
        return "\n".join(lines)

    def payload(self) -> dict:
        """The webhook's JSON body."""
        return {
            "alert_id": self.id,
            "rule": self.rule,
            "raised_at": self.raised_at,
            "summary": self.subject,
            "min_errors": self.min_errors,
            "window_minutes": self.window_minutes,
            "flagged": [
                {
                    "prediction_id": f.prediction.id,
                    "text": f.prediction.text,
                    "text_sha256": f.prediction.text_hash,
                    "predicted_label": f.prediction.label,
                    "probability_negative": f.prediction.probability_negative,
                    "correct_label": f.correct_label,
                    "model_name": f.prediction.model_name,
                    "model_version": f.prediction.model_version,
                    "flagged_at": f.flagged_at,
                }
                for f in self.flagged
            ],
        }


class Notifier(Protocol):
    """Delivers an alert somewhere; raises on failure."""

    name: str

    def send(self, alert: Alert) -> None: ...


class SmtpNotifier:
    """Alert mail over SMTP (optional STARTTLS and login)."""

    name = "mail"

    def __init__(self, config: AlertConfig) -> None:
        self.config = config

    def send(self, alert: Alert) -> None:
        """Send one mail to every recipient."""
        c = self.config
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = c.mail_from
        message["To"] = ", ".join(c.mail_to)
        message.set_content(alert.body())
        with smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=c.timeout_s) as smtp:
            if c.smtp_starttls:
                smtp.starttls()
            if c.smtp_user:
                smtp.login(c.smtp_user, c.smtp_password or "")
            smtp.send_message(message)


class WebhookNotifier:
    """Alert as a JSON POST to a URL (Teams/Slack-style incoming webhook, PagerDuty bridge, ...)."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, alert: Alert) -> None:
        """POST the alert's payload; raises on a non-2xx answer."""
        request = urllib.request.Request(
            self.url,
            data=json.dumps(alert.payload()).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (configured URL)
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered {response.status}")


def notifiers_from_config(config: AlertConfig) -> list[Notifier]:
    """The notifiers the configuration enables (mail when an SMTP host is set, webhook when a URL is)."""
    out: list[Notifier] = []
    if config.smtp_host:
        out.append(SmtpNotifier(config))
    if config.webhook_url:
        out.append(WebhookNotifier(config.webhook_url, config.timeout_s))
    return out


class AlertEngine:
    """Evaluates the rule after each flagged error and delivers at most one alert per cool-down.

    Args:
        config: the rule (N, T, cool-down) and the delivery settings.
        store: where flagged feedback, alert state and alerts live.
        notifiers: delivery channels (default: from ``config``).
        clock: the current UTC time (injectable for tests).
    """

    def __init__(
        self,
        config: AlertConfig,
        store: EventStore,
        notifiers: list[Notifier] | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.config, self.store, self.clock = config, store, clock
        self.notifiers = notifiers_from_config(config) if notifiers is None else notifiers
        self._executor: ThreadPoolExecutor | None = None
        self.delivery_failures = 0

    def evaluate(self) -> Alert | None:
        """Check the rule now; raise, record and dispatch an alert when it fires.

        Flags already covered by the previous alert do not count again, and no alert is raised
        within the cool-down of the last one.

        Returns:
            The alert raised, or ``None``.

        Raises:
            StoreUnavailableError: the store cannot be read or written.
        """
        c = self.config
        now = self.clock()
        since = now - timedelta(minutes=c.window_minutes)
        last = self.store.last_alert_at(RULE)
        if last is not None and last > since:
            since = last
        flagged = self.store.flagged_errors(since, now)
        if len(flagged) < c.min_errors:
            return None
        if not self.store.claim_alert(RULE, now, now - timedelta(minutes=c.cooldown_minutes)):
            logger.info("%d flagged errors, but the alert is cooling down.", len(flagged))
            return None
        alert_id = self.store.record_alert(RULE, now, [f.prediction.id for f in flagged])
        alert = Alert(alert_id, RULE, now.isoformat(), c.min_errors, c.window_minutes, tuple(flagged))
        logger.warning("Alert %d raised: %s", alert_id, alert.subject)
        self.dispatch(alert)
        return alert

    def dispatch(self, alert: Alert) -> Future | None:
        """Deliver ``alert`` through every notifier on the background thread."""
        if not self.notifiers:
            return None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-delivery")
        return self._executor.submit(self._deliver, alert)

    def _deliver(self, alert: Alert) -> None:
        for notifier in self.notifiers:
            try:
                notifier.send(alert)
                logger.info("Alert %d delivered by %s.", alert.id, notifier.name)
            except Exception as exc:  # one channel down must not stop the others
                self.delivery_failures += 1
                logger.error("Alert %d: %s delivery failed (%s: %s).", alert.id, notifier.name, type(exc).__name__, exc)

    def close(self, wait: bool = True) -> None:
        """Finish (or abandon) pending deliveries."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
