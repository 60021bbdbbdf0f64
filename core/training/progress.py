"""Following a training session from outside: progress reports and clean cancellation.

The pipeline reports where it is (stage, run k of n) to a :class:`TrainingMonitor`; the
monitor can write each report as a small JSON file that another process (the console)
polls. The finer epoch/step of a neural family comes from the frameworks' own progress
lines in the job's log (Keras ``Epoch 3/8``, tqdm ``12/40``), read by :func:`log_progress`.

Cancellation: :meth:`TrainingMonitor.cancel_on_sigterm` turns SIGTERM into
:class:`TrainingCancelled`, raised at once unless the pipeline is inside a
:meth:`TrainingMonitor.shielded` section (MLflow logging, registration), where it is held
until the section ends: a model is registered whole or not at all.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Stages of one run, with the share of the run's work done when each starts.
RUN_STAGES = {"tuning": 0.0, "fitting": 0.05, "evaluating": 0.8, "logging model": 0.9}


class TrainingCancelled(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """The training session was asked to stop (SIGTERM). A BaseException so that no library's
    ``except Exception`` swallows it."""


@dataclass
class ProgressReport:
    """Where a training session is."""

    stage: str
    """``preparing data``, ``tuning``, ``fitting``, ``evaluating``, ``logging model``,
    ``promoting champion``, ``done`` or ``cancelled``."""
    fraction: float
    """Share of the whole session done, in [0, 1]."""
    run_index: int = 0
    """1-based index of the current run (0 before the first)."""
    run_total: int = 0
    run_name: str = ""
    run_id: str = ""
    message: str = ""
    updated_at: float = field(default_factory=time.time)


ProgressCallback = Callable[[ProgressReport], None]


class ProgressFile:
    """A progress callback that writes each report as JSON to ``path`` (atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __call__(self, report: ProgressReport) -> None:
        """Replace the file's content with ``report``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(report)))
        os.replace(tmp, self.path)


def read_progress(path: Path) -> ProgressReport | None:
    """The last report written to ``path``, or ``None`` when there is none (yet)."""
    try:
        return ProgressReport(**json.loads(Path(path).read_text()))
    except (OSError, ValueError, TypeError):
        return None


class TrainingMonitor:
    """Progress reporting and cooperative cancellation for one training session.

    Args:
        callback: receives every :class:`ProgressReport` (``None``: reports are only logged
            at debug level).
    """

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self.callback = callback
        self.cancel_requested = False
        self._shield_depth = 0
        self.run_total = 0
        self.run_index = 0
        self.run_name = ""
        self.run_id = ""
        self._fraction = 0.0

    def report(self, stage: str, fraction: float | None = None, message: str = "") -> None:
        """Report ``stage``; within a run the session fraction follows from :data:`RUN_STAGES`."""
        if fraction is None and stage in RUN_STAGES:
            done = max(0, self.run_index - 1) + RUN_STAGES[stage]
            fraction = done / self.run_total if self.run_total else 0.0
        elif fraction is None:  # e.g. ``cancelled``: where the session had got to
            fraction = self._fraction
        self._fraction = fraction
        report = ProgressReport(
            stage,
            min(1.0, max(0.0, fraction)),
            self.run_index,
            self.run_total,
            self.run_name,
            self.run_id,
            message,
        )
        logger.debug("progress: %s", report)
        if self.callback is not None:
            try:
                self.callback(report)
            except OSError as exc:  # a full disk must not stop the training
                logger.warning("Could not write the progress report: %s", exc)

    def start_run(self, index: int, total: int, name: str) -> None:
        """Note that run ``index`` of ``total`` (1-based) starts."""
        self.run_index, self.run_total, self.run_name, self.run_id = index, total, name, ""

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """A section a cancellation must not cut: a SIGTERM received inside is raised at its end."""
        self._shield_depth += 1
        try:
            yield
        finally:
            self._shield_depth -= 1
        if self._shield_depth == 0 and self.cancel_requested:
            raise TrainingCancelled("cancelled")

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        self.cancel_requested = True
        logger.warning("Cancellation requested (signal %d).", signum)
        if self._shield_depth == 0:
            raise TrainingCancelled("cancelled")

    @contextmanager
    def cancel_on_sigterm(self) -> Iterator[None]:
        """Within the block, SIGTERM cancels the session (main thread only)."""
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)


RUN_MARKER = "Training run "
"""Logged by the pipeline when a run starts: epochs and steps before it belong to earlier runs."""
_EPOCH = re.compile(r"Epoch (\d+)/(\d+)")
_STEPS = re.compile(r"(?:^|[\s|:])(\d+)/(\d+) \[")


@dataclass
class LogProgress:
    """Epoch and step counters found in a training log (``None`` where not seen)."""

    epoch: tuple[int, int] | None = None
    step: tuple[int, int] | None = None


def log_progress(text: str) -> LogProgress:
    """The latest Keras epoch (``Epoch 3/8``) and tqdm step (``120/500 [``) of the current run
    in a log text (what follows the last :data:`RUN_MARKER`)."""
    text = text.rsplit(RUN_MARKER, 1)[-1]
    last_line = text.replace("\r", "\n").rstrip("\n").rsplit("\n", 1)[-1]
    epochs = _EPOCH.findall(text)
    steps = _STEPS.findall(last_line)
    return LogProgress(
        epoch=(int(epochs[-1][0]), int(epochs[-1][1])) if epochs else None,
        step=(int(steps[-1][0]), int(steps[-1][1])) if steps else None,
    )


def log_tail(path: Path, lines: int = 30, max_bytes: int = 64_000) -> str:
    """The last ``lines`` lines of a log file (carriage-return updates collapsed), or ``""``."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    shown = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n")]
    return "\n".join(shown[-lines:]).strip("\n")
