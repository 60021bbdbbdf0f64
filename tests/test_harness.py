"""The shared harness's own conventions: free ports, percentiles, readiness waits."""

from __future__ import annotations

import math
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import background, free_port, percentile, request, wait_until_ok


def test_percentile_is_nearest_rank_on_a_0_to_100_scale() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile(values, 0) == 1.0 and percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0 and percentile([1.0, 2.0, 3.0, 4.0], 51) == 3.0
    assert math.isnan(percentile([], 50))


def test_a_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_wait_until_ok_sees_a_server_come_up_and_a_process_die(tmp_path: Path) -> None:
    port = free_port()
    server = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    (tmp_path / "ready.json").write_text('{"ok": true}')
    with background(server, tmp_path / "server.log") as process:
        wait_until_ok(f"http://127.0.0.1:{port}/ready.json", process, tmp_path / "server.log", timeout_s=30)
        assert request(f"http://127.0.0.1:{port}/ready.json") == (200, {"ok": True})
    dying = subprocess.Popen([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], stdout=subprocess.DEVNULL)
    with pytest.raises(AssertionError, match="process exited with 3"):
        wait_until_ok(f"http://127.0.0.1:{free_port()}/", dying, None, timeout_s=30)
