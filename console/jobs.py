"""A durable queue of training jobs, run one at a time in processes of their own.

Each job is a ``python -m core train ...`` command line. The queue lives in a small SQLite
file (``jobs.db``) in a job folder next to the MLflow store; each job gets its own log and
progress file (:mod:`core.training.progress`) in a sub-folder. A detached worker process
(``python -m console.jobs worker FOLDER``, its own session) takes the queued jobs in order and
runs each in its own process group, so closing the console does not stop a training and
a cancellation (SIGTERM to the group) reaches the training process and its children only.
At most one worker runs per folder (a lock file held for its lifetime).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.cli import build_config, build_parser
from core.config import DEFAULT_STORE_DIR, PROJECT_ROOT
from core.errors import ConfigError, DataError
from core.training.progress import ProgressReport, log_tail, read_progress

logger = logging.getLogger(__name__)

QUEUED, RUNNING, FINISHED, FAILED, CANCELLED = "queued", "running", "finished", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
CANCELLED_EXIT_CODE = 143
"""Exit code of ``python -m core train`` when cancelled by SIGTERM (128 + 15)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    description TEXT NOT NULL,
    args TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    pid INTEGER,
    exit_code INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0
)
"""


def jobs_folder(tracking_uri: str) -> Path:
    """Where the queue of a store lives: beside an embedded SQLite store, else ``.mlflow/jobs``."""
    if tracking_uri.startswith("sqlite:///"):
        return Path(tracking_uri.removeprefix("sqlite:///")).resolve().parent / "jobs"
    return DEFAULT_STORE_DIR / "jobs"


@dataclass
class Job:
    """One queued, running or ended training job."""

    id: int
    description: str
    args: list[str]
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    pid: int | None
    exit_code: int | None
    cancel_requested: bool
    folder: Path

    @property
    def log_path(self) -> Path:
        """The job's combined stdout and stderr."""
        return self.folder / "log.txt"

    @property
    def progress_path(self) -> Path:
        """The JSON progress file the training writes."""
        return self.folder / "progress.json"

    def progress(self) -> ProgressReport | None:
        """The training's last progress report, if any."""
        return read_progress(self.progress_path)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the job's log."""
        return log_tail(self.log_path, lines)

    def command(self, python: str = sys.executable) -> list[str]:
        """The command line that runs the job."""
        return [python, "-m", "core", "train", *self.args, "--progress-file", str(self.progress_path)]


def validate_train_args(args: list[str]) -> None:
    """Check ``python -m core train`` arguments as the CLI would, without training.

    Raises:
        ConfigError: unknown option or invalid setting.
        DataError: the data file does not exist.
    """
    parser = build_parser()
    try:
        with contextlib.redirect_stderr(open(os.devnull, "w")):  # noqa: SIM115 - closed with the process
            namespace = parser.parse_args(["train", *args])
    except SystemExit:
        raise ConfigError(f"Invalid training options: {' '.join(args)}") from None
    config = build_config(namespace)
    if not config.data.path.is_file():
        raise DataError(f"Data file not found: {config.data.path}")


class JobQueue:
    """The training jobs of one job folder.

    Args:
        folder: where ``jobs.db``, the worker lock and each job's files live (created).
        python: interpreter that runs the worker and the jobs.
    """

    def __init__(self, folder: Path, python: str = sys.executable) -> None:
        self.folder = Path(folder)
        self.python = python
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.folder / "jobs.db", timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.row_factory = sqlite3.Row
            yield conn
        finally:
            conn.close()

    def _job(self, row: sqlite3.Row) -> Job:
        return Job(
            id=row["id"],
            description=row["description"],
            args=json.loads(row["args"]),
            status=row["status"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            pid=row["pid"],
            exit_code=row["exit_code"],
            cancel_requested=bool(row["cancel_requested"]),
            folder=self.folder / str(row["id"]),
        )

    def submit(self, args: list[str], description: str, start_worker: bool = True) -> Job:
        """Validate and queue a training job; start the worker unless one runs.

        Args:
            args: ``python -m core train`` arguments (without ``--progress-file``).
            description: one line shown in the console.
            start_worker: start a worker process when none runs.

        Raises:
            ConfigError, DataError: the arguments are invalid (nothing is queued).
        """
        validate_train_args(args)
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (description, args, status, created_at) VALUES (?, ?, ?, ?)",
                (description, json.dumps(args), QUEUED, time.time()),
            )
            job_id = int(cursor.lastrowid)
        (self.folder / str(job_id)).mkdir(exist_ok=True)
        logger.info("Queued job %d: %s", job_id, description)
        if start_worker:
            self.ensure_worker()
        return self.get(job_id)

    def get(self, job_id: int) -> Job:
        """One job by id.

        Raises:
            KeyError: no such job.
        """
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return self._job(row)

    def jobs(self, limit: int = 50) -> list[Job]:
        """Newest jobs first."""
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [self._job(row) for row in rows]

    def cancel(self, job_id: int) -> Job:
        """Cancel a job: a queued one is dropped, a running one gets SIGTERM (its run ends KILLED)."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise KeyError(job_id)
            if row["status"] == QUEUED:
                conn.execute(
                    "UPDATE jobs SET status = ?, cancel_requested = 1, finished_at = ? WHERE id = ?",
                    (CANCELLED, time.time(), job_id),
                )
            elif row["status"] == RUNNING:
                conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
            conn.execute("COMMIT")
        job = self.get(job_id)
        if job.status == RUNNING and job.pid:
            _terminate_group(job.pid)
        return job

    def worker_alive(self) -> bool:
        """Whether a worker process holds this folder's lock."""
        with open(self.folder / "worker.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False

    def refresh(self) -> None:
        """Repair what a vanished worker left: its running jobs become failed; restart the queue."""
        if self.worker_alive():
            return
        with self._connect() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, finished_at = ? WHERE status = ?",
                (FAILED, time.time(), RUNNING),
            )
        self.ensure_worker()

    def ensure_worker(self) -> bool:
        """Start a detached worker when jobs are queued and none runs; returns whether one started."""
        with self._connect() as conn:
            queued = conn.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]
        if not queued or self.worker_alive():
            return False
        with open(self.folder / "worker.log", "ab") as log:
            subprocess.Popen(
                [self.python, "-m", "console.jobs", "worker", str(self.folder)],
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # not stopped with the console or its terminal
            )
        return True

    def _claim_next(self) -> Job | None:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT * FROM jobs WHERE status = ? ORDER BY id LIMIT 1", (QUEUED,)).fetchone()
            if row is not None:
                conn.execute(
                    "UPDATE jobs SET status = ?, started_at = ? WHERE id = ?", (RUNNING, time.time(), row["id"])
                )
            conn.execute("COMMIT")
        return None if row is None else self.get(row["id"])

    def _run(self, job: Job) -> None:
        """Run one claimed job to its end and record how it ended."""
        job.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(job.log_path, "ab") as log:
            process = subprocess.Popen(
                job.command(self.python),
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: a cancellation reaches it and its children only
            )
            with self._connect() as conn:
                conn.execute("UPDATE jobs SET pid = ? WHERE id = ?", (process.pid, job.id))
            if self.get(job.id).cancel_requested:  # cancelled before its pid was known
                _terminate_group(process.pid)
            code = process.wait()
        cancelled = self.get(job.id).cancel_requested or code in (CANCELLED_EXIT_CODE, -signal.SIGTERM)
        status = FINISHED if code == 0 else CANCELLED if cancelled else FAILED
        with self._connect() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, exit_code = ?, finished_at = ? WHERE id = ?",
                (status, code, time.time(), job.id),
            )
        logger.info("Job %d %s (exit code %d).", job.id, status, code)

    def run_worker(self) -> int:
        """Run queued jobs one after the other until none is left (the worker process' body)."""
        while True:
            with open(self.folder / "worker.lock", "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return 0  # another worker serves this folder
                while (job := self._claim_next()) is not None:
                    try:
                        self._run(job)
                    except OSError as exc:
                        logger.error("Job %d could not run: %s", job.id, exc)
                        with self._connect() as conn:
                            conn.execute(
                                "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?",
                                (FAILED, time.time(), job.id),
                            )
            # Lock released: a job queued meanwhile saw a live worker and started none, so look again.
            with self._connect() as conn:
                if not conn.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]:
                    return 0

    def wait(self, job_id: int, timeout_s: float, poll_s: float = 0.2) -> Job:
        """Poll until the job has ended or ``timeout_s`` passed; returns its last state."""
        deadline = time.monotonic() + timeout_s
        job = self.get(job_id)
        while job.status in ACTIVE and time.monotonic() < deadline:
            time.sleep(poll_s)
            job = self.get(job_id)
        return job


def _terminate_group(pid: int) -> None:
    """SIGTERM to the process group led by ``pid`` (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    """``python -m console.jobs worker FOLDER``: run the folder's queued jobs, then exit."""
    parser = argparse.ArgumentParser(prog="python -m console.jobs", description="Training job worker.")
    parser.add_argument("command", choices=["worker"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return JobQueue(args.folder).run_worker()


if __name__ == "__main__":
    sys.exit(main())
