"""Prediction and feedback events: recorded off the request path, never failing a prediction.

:class:`EventRecorder` puts prediction events on a bounded queue that one background thread
writes to the store in batches; when the queue is full, new events are dropped and counted
(a slow or broken store costs events, never prediction latency). Feedback is different: the
API answers 2xx only once it is committed, so it is written synchronously, together with its
prediction when that one is still queued. :class:`EventMonitor` ties the store, the recorder,
Application Insights and the alert rule together for the API.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.monitoring.alerts import Alert, AlertEngine, Notifier
from core.monitoring.event_store import (
    EventStore,
    FeedbackRecord,
    FlaggedError,
    PredictionNotFoundError,
    PredictionRecord,
    StoreUnavailableError,
    now_iso,
    text_hash,
)
from core.monitoring.settings import MonitoringConfig
from core.monitoring.telemetry import Telemetry

logger = logging.getLogger(__name__)

_STOP = object()

REPLICA_LAG_S = 2.0
"""How long feedback on a prediction issued moments ago waits for its event: with several API replicas
on one store, the feedback may reach another replica before the serving one has written the event
(events are written off the request path). Only ids issued within this window wait; others answer at once."""


def new_prediction_id() -> str:
    """32 hex characters (like a UUID's): the issue time in milliseconds (12), then 80 random bits (20)."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def issued_at(prediction_id: str) -> float | None:
    """When :func:`new_prediction_id` made ``prediction_id`` (epoch seconds); ``None`` if it did not."""
    if len(prediction_id) != 32:
        return None
    try:
        return int(prediction_id[:12], 16) / 1000
    except ValueError:
        return None


_LOG_EVERY_S = 60.0


class _RateLimitedLog:
    """Logs a repeated warning at most once a minute (a broken store must not flood the log)."""

    def __init__(self) -> None:
        self._last = 0.0

    def warning(self, message: str, *args) -> None:
        now = time.monotonic()
        if now - self._last >= _LOG_EVERY_S:
            self._last = now
            logger.warning(message, *args)


class EventRecorder:
    """Writes prediction events to a store from a background thread, through a bounded queue.

    Args:
        store: where events go.
        queue_size: events waiting at most; beyond it, new events are dropped (``dropped``).
        write_delay_ms: artificial delay before each batch write (tests of a slow store).
        on_batch: called with each batch before it is written (e.g. telemetry); its errors are logged.
        batch_size: most events per transaction.
    """

    def __init__(
        self,
        store: EventStore,
        queue_size: int = 10_000,
        write_delay_ms: float = 0.0,
        on_batch: Callable[[list[PredictionRecord]], None] | None = None,
        batch_size: int = 500,
    ) -> None:
        self.store = store
        self.write_delay_s = write_delay_ms / 1000
        self.on_batch = on_batch
        self.batch_size = batch_size
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._pending: dict[str, PredictionRecord] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.written = self.dropped = self.failed = 0
        self._warn = _RateLimitedLog()
        store.pending_lookup = self.pending
        atexit.register(_close_at_exit, weakref.ref(self))  # a clean shutdown writes what is queued

    def _ensure_writer(self) -> None:
        # Started lazily, and again in a forked child (a gunicorn worker after --preload).
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                    self._pid = os.getpid()
                    self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
                    self._thread.start()

    def submit(self, records: Iterable[PredictionRecord]) -> int:
        """Queue events without waiting; returns how many were accepted (the rest are dropped)."""
        self._ensure_writer()
        accepted = 0
        for record in records:
            with self._lock:
                self._pending[record.id] = record
            try:
                self._queue.put_nowait(record)
                accepted += 1
            except queue.Full:
                with self._lock:
                    self._pending.pop(record.id, None)
                    self.dropped += 1
                self._warn.warning("Event queue full: prediction events are being dropped (%d so far).", self.dropped)
        return accepted

    def pending(self, prediction_id: str) -> PredictionRecord | None:
        """A queued event not written yet, or ``None``."""
        with self._lock:
            return self._pending.get(prediction_id)

    def _take_batch(self) -> list:
        items = [self._queue.get()]
        while len(items) < self.batch_size and items[-1] is not _STOP:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _run(self) -> None:
        while True:
            items = self._take_batch()
            batch = [i for i in items if i is not _STOP]
            try:
                if batch:
                    self._write(batch)
            finally:
                for _ in items:
                    self._queue.task_done()
            if len(batch) < len(items):
                return

    def _write(self, batch: list[PredictionRecord]) -> None:
        if self.on_batch is not None:
            try:
                self.on_batch(batch)
            except Exception:
                logger.exception("Prediction telemetry failed")
        if self.write_delay_s:
            time.sleep(self.write_delay_s)
        try:
            self.store.record_predictions(batch)
            ok = True
        except Exception as exc:  # any store failure: count it, log it, keep serving
            ok = False
            self._warn.warning("Prediction events not stored (%s); %d lost so far.", exc, self.failed + len(batch))
        with self._lock:
            if ok:
                self.written += len(batch)
            else:
                self.failed += len(batch)
            for record in batch:
                self._pending.pop(record.id, None)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is written (or failed); ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the writer thread."""
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            self.flush(timeout)
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                return
            self._thread.join(timeout)

    def stats(self) -> dict[str, int]:
        """Counters: ``queued`` (waiting now), ``written``, ``dropped`` (queue full), ``failed`` (store errors)."""
        with self._lock:
            return {
                "queued": self._queue.qsize(),
                "written": self.written,
                "dropped": self.dropped,
                "failed": self.failed,
            }


def _close_at_exit(ref: weakref.ref) -> None:
    recorder = ref()
    if recorder is not None:
        recorder.close(timeout=5.0)


@dataclass(frozen=True)
class FeedbackOutcome:
    """What recording one feedback did."""

    feedback: FeedbackRecord
    prediction: PredictionRecord
    flagged: bool
    """The feedback contradicts the served label (a misclassified tweet)."""
    alert: Alert | None


class EventMonitor:
    """The API's monitoring: event store, background recorder, telemetry and the alert rule.

    Args:
        config: store, privacy, queue, Application Insights and alert settings.
        store: an already built store (default: from ``config``).
        telemetry: an already built telemetry sender (default: from ``config.connection_string``).
        notifiers: alert delivery channels (default: from ``config.alerts``).
    """

    def __init__(
        self,
        config: MonitoringConfig,
        store: EventStore | None = None,
        telemetry: Telemetry | None = None,
        notifiers: list[Notifier] | None = None,
    ) -> None:
        self.config = config
        self.store = store or EventStore(config.resolved_store_url)
        if telemetry is None and config.connection_string:
            telemetry = Telemetry(config.connection_string)
        self.telemetry = telemetry
        on_batch = telemetry.predictions if telemetry is not None else None
        self.recorder = EventRecorder(self.store, config.queue_size, config.write_delay_ms, on_batch)
        self.alerts = AlertEngine(config.alerts, self.store, notifiers)

    def record_predictions(
        self, scored: Iterable[tuple[str, str, float]], model_name: str, model_version: str, latency_ms: float | None
    ) -> list[PredictionRecord]:
        """Give each (text, label, P(negative)) an id and queue its event; never raises.

        Returns:
            The events, in order (their ids go back to the client).
        """
        created_at = now_iso()
        keep_text = self.config.text_mode == "full"
        records = [
            PredictionRecord(
                id=new_prediction_id(),
                created_at=created_at,
                text=text if keep_text else None,
                label=label,
                probability_negative=float(p),
                model_name=model_name,
                model_version=model_version,
                latency_ms=latency_ms,
                text_hash=text_hash(text),
                text_length=len(text),
            )
            for text, label, p in scored
        ]
        try:
            self.recorder.submit(records)
        except Exception:  # the prediction is served whatever happens to its event
            logger.exception("Queueing prediction events failed")
        return records

    def record_feedback(self, prediction_id: str, correct_label: str) -> FeedbackOutcome:
        """Store a feedback durably; for a misclassified tweet, send telemetry and evaluate the alert rule.

        Raises:
            PredictionNotFoundError: no such prediction (or its event was dropped).
            StoreUnavailableError: the feedback could not be stored.
        """
        pending = self.recorder.pending(prediction_id)
        try:
            record = self.store.record_feedback(prediction_id, correct_label, pending)
        except PredictionNotFoundError:
            record = self._record_once_written(prediction_id, correct_label)
        prediction = pending or self.store.get_prediction(prediction_id)
        if prediction is None:  # cannot happen after a successful record_feedback; kept for type safety
            raise PredictionNotFoundError(f"No prediction has id '{prediction_id}'.")
        flagged = prediction.label != correct_label
        alert = None
        if flagged:
            if self.telemetry is not None:
                try:
                    self.telemetry.misclassified(FlaggedError(prediction, correct_label, record.created_at))
                except Exception:
                    logger.exception("Misclassification telemetry failed")
            try:
                alert = self.alerts.evaluate()
            except StoreUnavailableError as exc:  # the feedback itself is stored; the rule retries next time
                logger.error("Alert rule not evaluated: %s", exc)
        return FeedbackOutcome(record, prediction, flagged, alert)

    def _record_once_written(self, prediction_id: str, correct_label: str) -> FeedbackRecord:
        """Feedback on a prediction another replica issued moments ago: wait for its event (bounded).

        Raises:
            PredictionNotFoundError: the id was not issued within :data:`REPLICA_LAG_S`, or its event is
                still not in the store after that.
        """
        issued = issued_at(prediction_id)
        now = time.time()
        if issued is None or not (now - REPLICA_LAG_S <= issued <= now + 1.0):
            raise PredictionNotFoundError(f"No prediction has id '{prediction_id}'.")
        deadline = issued + REPLICA_LAG_S
        while True:
            time.sleep(0.02)
            try:
                return self.store.record_feedback(prediction_id, correct_label, None)
            except PredictionNotFoundError:
                if time.time() >= deadline:
                    raise

    def stats(self) -> dict:
        """Event counters and which outputs are on."""
        return {
            "events": self.recorder.stats(),
            "telemetry": self.telemetry is not None,
            "alert_channels": [n.name for n in self.alerts.notifiers],
        }

    def close(self) -> None:
        """Write queued events, finish alert deliveries, flush telemetry."""
        self.recorder.close()
        self.alerts.close()
        if self.telemetry is not None:
            self.telemetry.close()
