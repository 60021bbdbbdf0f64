"""Durable record of served predictions and the feedback users give on them (SQLite, WAL).

Each call opens its own short connection, so one store object is safe to share between
threads and each gunicorn worker can open the same file. Every write is committed before
the call returns: a caller that answers 2xx afterwards has made the record durable.
Nothing happens on import; the database file and its folder are created on first use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.config import PROJECT_ROOT
from core.errors import CoreError

DEFAULT_FEEDBACK_DB = PROJECT_ROOT / ".data" / "feedback.db"
LABELS = ("negative", "positive")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    probability_negative REAL NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prediction_id TEXT NOT NULL REFERENCES predictions(id),
    correct_label TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_prediction ON feedback(prediction_id);
"""


class PredictionNotFoundError(CoreError):
    """Feedback names a prediction this store never recorded."""


@dataclass(frozen=True)
class PredictionRecord:
    """One served prediction, as remembered for later feedback."""

    id: str
    created_at: str
    text: str
    label: str
    probability_negative: float
    model_name: str
    model_version: str


@dataclass(frozen=True)
class FeedbackRecord:
    """A user's verdict on one prediction."""

    id: int
    prediction_id: str
    correct_label: str
    created_at: str


def now_iso() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat()


class FeedbackStore:
    """Predictions and feedback in one SQLite file.

    Args:
        path: the database file (its folder is created when missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success, rolls back on error, and is always closed."""
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            conn.execute("PRAGMA synchronous=FULL")
            with conn:
                yield conn

    def record_predictions(self, records: list[PredictionRecord]) -> None:
        """Remember served predictions (one transaction, committed on return)."""
        rows = [
            (r.id, r.created_at, r.text, r.label, r.probability_negative, r.model_name, r.model_version)
            for r in records
        ]
        with self._connect() as conn:
            conn.executemany("INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def get_prediction(self, prediction_id: str) -> PredictionRecord | None:
        """A remembered prediction, or ``None``."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM predictions WHERE id = ?", (prediction_id,)).fetchone()
        return PredictionRecord(*row) if row else None

    def record_feedback(self, prediction_id: str, correct_label: str) -> FeedbackRecord:
        """Store the correct label of a remembered prediction (committed on return).

        Raises:
            CoreError: the label is not ``negative`` or ``positive``.
            PredictionNotFoundError: no prediction has that id.
        """
        if correct_label not in LABELS:
            raise CoreError(f"correct_label must be one of {', '.join(LABELS)}.")
        created_at = now_iso()
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM predictions WHERE id = ?", (prediction_id,)).fetchone() is None:
                raise PredictionNotFoundError(f"No prediction has id '{prediction_id}'.")
            cursor = conn.execute(
                "INSERT INTO feedback (prediction_id, correct_label, created_at) VALUES (?, ?, ?)",
                (prediction_id, correct_label, created_at),
            )
        return FeedbackRecord(int(cursor.lastrowid), prediction_id, correct_label, created_at)

    def feedback_for(self, prediction_id: str) -> list[FeedbackRecord]:
        """Every feedback on one prediction, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, prediction_id, correct_label, created_at FROM feedback WHERE prediction_id = ? ORDER BY id",
                (prediction_id,),
            ).fetchall()
        return [FeedbackRecord(*row) for row in rows]
