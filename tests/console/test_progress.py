"""Progress reports and cooperative cancellation (core/training/progress.py), with real signals."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from core.training.progress import (
    RUN_MARKER,
    ProgressFile,
    TrainingCancelled,
    TrainingMonitor,
    log_progress,
    log_tail,
    read_progress,
)


def test_sigterm_cancels_at_once_outside_a_shielded_section() -> None:
    monitor = TrainingMonitor()
    reached = False
    with pytest.raises(TrainingCancelled), monitor.cancel_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        reached = True
    assert not reached and monitor.cancel_requested
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the previous handler is back


def test_sigterm_inside_a_shielded_section_waits_for_its_end() -> None:
    monitor = TrainingMonitor()
    steps = []
    with pytest.raises(TrainingCancelled), monitor.cancel_on_sigterm():
        with monitor.shielded():
            with monitor.shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                steps.append("inner finished")
            steps.append("outer finished")
        steps.append("after the shield")
    assert steps == ["inner finished", "outer finished"]


def test_reports_go_to_the_progress_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "progress.json"
    assert read_progress(path) is None
    monitor = TrainingMonitor(ProgressFile(path))
    monitor.report("preparing data", 0.0)
    monitor.start_run(2, 4, "tfidf-stem")
    monitor.report("evaluating")
    report = read_progress(path)
    assert (report.stage, report.run_index, report.run_total, report.run_name) == ("evaluating", 2, 4, "tfidf-stem")
    assert report.fraction == pytest.approx((1 + 0.8) / 4)
    monitor.report("cancelled")
    assert read_progress(path).fraction == pytest.approx(report.fraction)  # stays where it stopped


def test_epoch_and_step_come_from_the_current_run_of_the_log(tmp_path: Path) -> None:
    log = (
        f"INFO core.training.pipeline: {RUN_MARKER}1/2: keras_embedding-none\nEpoch 1/8\nEpoch 2/8\n"
        f"INFO core.training.pipeline: {RUN_MARKER}2/2: bert-none\n"
        "bert fine-tuning:  10%|#  | 12/120 [00:03<00:30]\rbert fine-tuning:  20%|## | 24/120 [00:06<00:24]"
    )
    counters = log_progress(log)
    assert counters.epoch is None and counters.step == (24, 120)
    assert log_progress(log.rsplit(RUN_MARKER, 1)[0] + "Epoch 3/8\n").epoch == (3, 8)
    path = tmp_path / "log.txt"
    path.write_text(log)
    tail = log_tail(path, lines=2)
    assert tail.endswith("24/120 [00:06<00:24]") and "12/120" not in tail  # carriage-return updates collapsed
    assert log_tail(tmp_path / "missing.txt") == ""
