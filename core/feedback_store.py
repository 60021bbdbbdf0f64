"""Predictions and feedback in a SQLite (WAL) file: the event store of :mod:`core.event_store`.

Kept so existing code and tests can keep writing ``FeedbackStore(path)``; new code uses
:class:`core.event_store.EventStore` (SQLite or PostgreSQL) directly.
"""

from __future__ import annotations

from pathlib import Path

from core.config import DEFAULT_EVENT_DB
from core.event_store import (
    LABELS,
    EventStore,
    FeedbackRecord,
    PredictionNotFoundError,
    PredictionRecord,
    now_iso,
)

DEFAULT_FEEDBACK_DB = DEFAULT_EVENT_DB

__all__ = [
    "DEFAULT_FEEDBACK_DB",
    "LABELS",
    "FeedbackRecord",
    "FeedbackStore",
    "PredictionNotFoundError",
    "PredictionRecord",
    "now_iso",
]


class FeedbackStore(EventStore):
    """The event store in the SQLite file ``path`` (its folder is created on first use).

    Args:
        path: the database file.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(f"sqlite:///{Path(path).resolve()}")
        self.path = Path(path)
