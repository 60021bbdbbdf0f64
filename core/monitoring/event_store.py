"""Durable store of prediction events, feedback and alerts (SQLAlchemy Core: SQLite WAL or PostgreSQL).

One :class:`EventStore` object is safe to share between threads (a pooled engine, one short
transaction per call) and every gunicorn worker can open the same database. Every write is
committed before the call returns. Nothing happens on import, and nothing touches the
database until the first call: a store that cannot be reached fails those calls with
:class:`StoreUnavailableError`, never the construction.

The alert rule's state (last alert time, flagged errors) lives here too, so it survives a
crash or a restart and is shared by every worker (see :mod:`core.monitoring.alerts`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from core.errors import ConfigError, CoreError

if TYPE_CHECKING:  # pandas is imported only by the monitoring reads, not by the serving path
    import pandas as pd  # lazy: the serving path never loads pandas

LABELS = ("negative", "positive")
_SCHEMA_ATTEMPTS = 5

metadata = sa.MetaData()

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=True),  # NULL when the privacy setting stores only the hash
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("probability_negative", sa.Float, nullable=False),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.String(50), nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("text_hash", sa.String(64), nullable=False),
    sa.Column("text_length", sa.Integer, nullable=False),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prediction_id", sa.String(64), sa.ForeignKey("predictions.id"), nullable=False, index=True),
    sa.Column("correct_label", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("flagged_count", sa.Integer, nullable=False),
    sa.Column("prediction_ids", sa.Text, nullable=False),  # JSON list
)

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("rule", sa.String(100), primary_key=True),
    sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True),
)


class StoreUnavailableError(CoreError):
    """The event store cannot be reached or written (the reason is in the message)."""


class PredictionNotFoundError(CoreError):
    """Feedback names a prediction this store never recorded."""


@dataclass(frozen=True)
class PredictionRecord:
    """One served prediction (an event), as remembered for feedback and monitoring."""

    id: str
    created_at: str
    text: str | None
    label: str
    probability_negative: float
    model_name: str
    model_version: str
    latency_ms: float | None = None
    text_hash: str = ""
    text_length: int = 0


@dataclass(frozen=True)
class FeedbackRecord:
    """A user's verdict on one prediction."""

    id: int
    prediction_id: str
    correct_label: str
    created_at: str


@dataclass(frozen=True)
class FlaggedError:
    """A prediction that feedback said was wrong."""

    prediction: PredictionRecord
    correct_label: str
    flagged_at: str


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def now_iso() -> str:
    """The current UTC time in ISO 8601."""
    return now_utc().isoformat()


def text_hash(text: str) -> str:
    """SHA-256 hex digest of a tweet's UTF-8 text (stored instead of the text in ``hash`` mode)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: datetime | str) -> datetime:
    """A UTC-aware datetime (SQLite hands back naive UTC values; ISO strings are parsed)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_url(url: str) -> str:
    """A SQLAlchemy URL with the installed PostgreSQL driver (psycopg 3) made explicit."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # committed means on disk, even on power loss
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _prediction(row) -> PredictionRecord:
    return PredictionRecord(
        id=row.id,
        created_at=_aware(row.created_at).isoformat(),
        text=row.text,
        label=row.label,
        probability_negative=float(row.probability_negative),
        model_name=row.model_name,
        model_version=row.model_version,
        latency_ms=None if row.latency_ms is None else float(row.latency_ms),
        text_hash=row.text_hash,
        text_length=int(row.text_length),
    )


def _prediction_row(record: PredictionRecord) -> dict:
    row = {c: getattr(record, c) for c in predictions.columns.keys()}
    row["created_at"] = _aware(record.created_at)
    row["text_hash"] = record.text_hash or (text_hash(record.text) if record.text is not None else "")
    row["text_length"] = record.text_length or (len(record.text) if record.text is not None else 0)
    return row


class EventStore:
    """Prediction events, feedback and alerts in one SQL database.

    Args:
        url: SQLAlchemy URL: ``sqlite:////abs/path.db`` (WAL mode; its folder is created on first
            use) or ``postgresql://user@host:port/db`` (driven by psycopg 3).

    Raises:
        ConfigError: the URL is malformed or names an unknown database kind.
    """

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        try:
            parsed = sa.engine.make_url(self.url)
            self.engine: Engine = sa.create_engine(self.url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(f"Invalid event store URL '{url}': {exc}") from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.path = Path(parsed.database) if self.is_sqlite and parsed.database else None
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._ready = False
        self._ready_lock = threading.Lock()
        self.pending_lookup: Callable[[str], PredictionRecord | None] | None = None
        """Set by a background writer: predictions it holds but has not written yet (read-your-writes)."""

    @classmethod
    def for_sqlite(cls, path: Path) -> EventStore:
        """A store in the SQLite file ``path``."""
        return cls(f"sqlite:///{Path(path).resolve()}")

    def __repr__(self) -> str:
        return f"EventStore({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(_SCHEMA_ATTEMPTS):
                try:
                    with self.engine.begin() as conn:
                        self._retire_legacy_tables(conn)
                        metadata.create_all(conn)
                    break
                except SQLAlchemyError:
                    # Another process (a second gunicorn worker) created the same tables between our check and
                    # our CREATE ("table ... already exists"): the next attempt's check sees them.
                    if attempt == _SCHEMA_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05 * (attempt + 1))
            self._ready = True

    @staticmethod
    def _retire_legacy_tables(conn: Connection) -> None:
        """Rename tables of the first, pre-monitoring schema aside (``*_v1``) instead of failing."""
        inspector = sa.inspect(conn)
        if "predictions" in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns("predictions")}
            if "text_hash" not in columns:
                for name in ("feedback", "predictions"):
                    conn.execute(sa.text(f"ALTER TABLE {name} RENAME TO {name}_v1"))
                logging.getLogger(__name__).warning("Old event tables kept as predictions_v1 and feedback_v1.")

    def _begin(self):
        """A transaction on a schema-ready database, failures turned into :class:`StoreUnavailableError`."""
        try:
            self._ensure_schema()
            return self.engine.begin()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"The event store is unavailable ({type(exc).__name__}).") from exc

    def _run(self, work):
        """Run ``work(conn)`` in one transaction (committed on return)."""
        try:
            with self._begin() as conn:
                return work(conn)
        except StoreUnavailableError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"The event store is unavailable ({type(exc).__name__}).") from exc

    def _insert_ignore(self, conn: Connection, rows: list[dict]) -> None:
        """Insert prediction rows, skipping ids already stored (a feedback may have written one first)."""
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert  # the dialect's own upsert
        else:
            from sqlalchemy.dialects.sqlite import insert  # the dialect's own upsert
        conn.execute(insert(predictions).on_conflict_do_nothing(index_elements=["id"]), rows)

    def check(self) -> None:
        """Open the store once (create the tables).

        Raises:
            StoreUnavailableError: it cannot be reached or written.
        """
        self._run(lambda conn: conn.execute(sa.select(1)))

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    # -- predictions and feedback -----------------------------------------------------------

    def record_predictions(self, records: Iterable[PredictionRecord]) -> None:
        """Store prediction events (one transaction, committed on return; known ids are skipped)."""
        rows = [_prediction_row(r) for r in records]
        self._run(lambda conn: self._insert_ignore(conn, rows))

    def get_prediction(self, prediction_id: str) -> PredictionRecord | None:
        """A stored prediction (or one still queued by this process's writer), or ``None``."""
        if self.pending_lookup is not None and (queued := self.pending_lookup(prediction_id)) is not None:
            return queued
        row = self._run(
            lambda conn: conn.execute(sa.select(predictions).where(predictions.c.id == prediction_id)).first()
        )
        return _prediction(row) if row else None

    def record_feedback(
        self, prediction_id: str, correct_label: str, pending: PredictionRecord | None = None
    ) -> FeedbackRecord:
        """Store the correct label of a prediction (committed on return).

        Args:
            prediction_id: the served prediction's id.
            correct_label: ``negative`` or ``positive``.
            pending: that prediction's event when it may not be written yet (it is written first,
                in the same transaction).

        Raises:
            CoreError: the label is not ``negative`` or ``positive``.
            PredictionNotFoundError: no prediction has that id.
            StoreUnavailableError: the store cannot be written.
        """
        if correct_label not in LABELS:
            raise CoreError(f"correct_label must be one of {', '.join(LABELS)}.")
        created_at = now_utc()

        def work(conn: Connection) -> int:
            if pending is not None and pending.id == prediction_id:
                self._insert_ignore(conn, [_prediction_row(pending)])
            exists = conn.execute(sa.select(predictions.c.id).where(predictions.c.id == prediction_id)).first()
            if exists is None:
                raise PredictionNotFoundError(f"No prediction has id '{prediction_id}'.")
            result = conn.execute(
                feedback.insert().values(
                    prediction_id=prediction_id, correct_label=correct_label, created_at=created_at
                )
            )
            return int(result.inserted_primary_key[0])

        feedback_id = self._run(work)
        return FeedbackRecord(feedback_id, prediction_id, correct_label, created_at.isoformat())

    def feedback_for(self, prediction_id: str) -> list[FeedbackRecord]:
        """Every feedback on one prediction, oldest first."""
        rows = self._run(
            lambda conn: conn.execute(
                sa.select(feedback).where(feedback.c.prediction_id == prediction_id).order_by(feedback.c.id)
            ).all()
        )
        return [FeedbackRecord(r.id, r.prediction_id, r.correct_label, _aware(r.created_at).isoformat()) for r in rows]

    def flagged_errors(self, since: datetime, until: datetime | None = None) -> list[FlaggedError]:
        """Feedback received in ``[since, until]`` that contradicts the served label, oldest first.

        A prediction flagged several times counts once (its first flag in the interval).
        """
        query = (
            sa.select(predictions, feedback.c.correct_label, feedback.c.created_at.label("flagged_at"))
            .join(feedback, feedback.c.prediction_id == predictions.c.id)
            .where(feedback.c.correct_label != predictions.c.label, feedback.c.created_at >= _aware(since))
            .order_by(feedback.c.created_at, feedback.c.id)
        )
        if until is not None:
            query = query.where(feedback.c.created_at <= _aware(until))
        rows = self._run(lambda conn: conn.execute(query).all())
        seen: set[str] = set()
        out = []
        for row in rows:
            if row.id not in seen:
                seen.add(row.id)
                out.append(FlaggedError(_prediction(row), row.correct_label, _aware(row.flagged_at).isoformat()))
        return out

    # -- alerts -----------------------------------------------------------------------------

    def last_alert_at(self, rule: str) -> datetime | None:
        """When ``rule`` last alerted (``None``: never)."""
        row = self._run(
            lambda conn: conn.execute(sa.select(alert_state.c.last_alert_at).where(alert_state.c.rule == rule)).first()
        )
        return _aware(row[0]) if row and row[0] is not None else None

    def claim_alert(self, rule: str, now: datetime, cooldown_start: datetime) -> bool:
        """Atomically take the right to alert: ``True`` when ``rule`` has not alerted since
        ``cooldown_start`` (its last-alert time is then set to ``now``), ``False`` otherwise.

        One conditional UPDATE decides, so two workers (or processes) never both win.
        """

        def work(conn: Connection) -> bool:
            if conn.execute(sa.select(alert_state.c.rule).where(alert_state.c.rule == rule)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(alert_state.insert().values(rule=rule, last_alert_at=None))
                except sa.exc.IntegrityError:
                    pass  # another worker created it first
            result = conn.execute(
                alert_state.update()
                .where(
                    alert_state.c.rule == rule,
                    sa.or_(
                        alert_state.c.last_alert_at.is_(None), alert_state.c.last_alert_at <= _aware(cooldown_start)
                    ),
                )
                .values(last_alert_at=_aware(now))
            )
            return result.rowcount == 1

        return self._run(work)

    def record_alert(self, rule: str, created_at: datetime, prediction_ids: list[str]) -> int:
        """Remember a raised alert; returns its id."""
        values = {
            "created_at": _aware(created_at),
            "rule": rule,
            "flagged_count": len(prediction_ids),
            "prediction_ids": json.dumps(prediction_ids),
        }
        return self._run(lambda conn: int(conn.execute(alerts.insert().values(**values)).inserted_primary_key[0]))

    def alerts_frame(self) -> pd.DataFrame:
        """Every raised alert (``id``, ``created_at``, ``rule``, ``flagged_count``, ``prediction_ids``)."""
        import pandas as pd  # lazy: the serving path never loads pandas

        rows = self._run(lambda conn: conn.execute(sa.select(alerts).order_by(alerts.c.id)).all())
        frame = pd.DataFrame(rows, columns=list(alerts.columns.keys()))
        frame["created_at"] = pd.to_datetime([_aware(v) for v in frame["created_at"]], utc=True)
        return frame

    # -- monitoring reads -------------------------------------------------------------------

    def predictions_frame(self, since: datetime | None = None) -> pd.DataFrame:
        """Prediction events with, per prediction, its latest feedback label (``correct_label``, or NaN)."""
        import pandas as pd  # lazy: the serving path never loads pandas

        latest = (
            sa.select(feedback.c.prediction_id, sa.func.max(feedback.c.id).label("last_id"))
            .group_by(feedback.c.prediction_id)
            .subquery()
        )
        query = (
            sa.select(predictions, feedback.c.correct_label)
            .outerjoin(latest, latest.c.prediction_id == predictions.c.id)
            .outerjoin(feedback, feedback.c.id == latest.c.last_id)
            .order_by(predictions.c.created_at)
        )
        if since is not None:
            query = query.where(predictions.c.created_at >= _aware(since))
        rows = self._run(lambda conn: conn.execute(query).all())
        frame = pd.DataFrame(rows, columns=[*predictions.columns.keys(), "correct_label"])
        frame["created_at"] = pd.to_datetime([_aware(v) for v in frame["created_at"]], utc=True)
        frame["probability_negative"] = frame["probability_negative"].astype(float)
        return frame

    def counts(self) -> dict[str, int]:
        """Row counts of the predictions, feedback and alerts tables."""

        def work(conn: Connection) -> dict[str, int]:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in (
                    predictions,
                    feedback,
                    alerts,
                )
            }

        return self._run(work)
