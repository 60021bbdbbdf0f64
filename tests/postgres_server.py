"""A throw-away PostgreSQL server on loopback for the tests that need a real one.

`.ci/run` installs Debian's ``postgresql`` package; this module finds its binaries, creates a
cluster in a temporary folder, starts it on a free port with trust authentication, and stops
and removes it afterwards. PostgreSQL refuses to run as root, so under root the server runs as
the ``postgres`` system user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.harness import free_port


class PostgresUnavailable(RuntimeError):
    """PostgreSQL binaries are missing: install Debian's ``postgresql`` package (``.ci/run`` does)."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server: its port and a way to make connection URLs for new databases."""

    port: int
    bin_dir: Path
    run_as: list[str]

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        """A SQLAlchemy-style URL, e.g. ``postgresql://postgres@127.0.0.1:5433/db``."""
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URL (``postgresql://...``)."""
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)]
            + ["-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return self.url(name)


def find_bin_dir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.insert(0, str(Path(on_path).resolve().parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable("PostgreSQL is not installed: run .ci/run, which installs Debian's postgresql package")


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh cluster on a free loopback port; stop and delete it on exit."""
    bin_dir = find_bin_dir()
    run_as = _run_as()
    base = Path(tempfile.mkdtemp(prefix="air-paradise-pg-"))
    data_dir = base / "data"
    if run_as:
        shutil.chown(base, user="postgres", group="postgres")
    port = free_port()
    try:
        subprocess.run(
            [*run_as, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options]
            + ["-l", str(base / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        _wait_ready(bin_dir, port)
        yield PostgresServer(port=port, bin_dir=bin_dir, run_as=run_as)
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(bin_dir: Path, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not become ready on port {port} within {timeout:.0f} s")
