"""Shared Optuna studies on a real PostgreSQL: worker processes (here and joining with ``tune-worker``)
split one study's trials, each a nested MLflow run of the family's parent run; a worker killed
mid-trial leaves a study that a rerun of the same command finishes."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from core.cli import build_config, build_parser
from core.config import PROJECT_ROOT, Param, TrackingConfig, TuningConfig
from core.errors import ConfigError
from core.tracking.setup import configure_tracking
from core.training.pipeline import run_pipeline
from core.training.tuning_workers import storage_url
from tests.conftest import tiny_config

SPACE = {"C": Param("float", 0.05, 50.0, log=True), "word_ngram_max": Param("int", 1, 2)}


def _trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=storage_url(TuningConfig(storage=storage))).trials


def _children(parent_id: str) -> list[mlflow.entities.Run]:
    client = MlflowClient()
    experiment = client.get_run(parent_id).info.experiment_id
    return client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent_id}'")


def _assert_final_model_uses_best(parent: mlflow.entities.Run, finished: list[optuna.trial.FrozenTrial]) -> None:
    best = max(finished, key=lambda t: t.value)
    assert float(parent.data.params["models.tfidf.C"]) == pytest.approx(best.params["C"])
    assert int(parent.data.params["models.tfidf.word_ngram_max"]) == best.params["word_ngram_max"]
    assert parent.data.metrics["tuning_best_score"] == pytest.approx(best.value)


def _cli(command: str, small_csv: Path, tmp_path: Path, storage: str, *extra: str) -> list[str]:
    """The tiny tuning session's command line (``train`` or ``tune-worker``) on the test stores."""
    return [
        sys.executable,
        "-m",
        "core",
        command,
        "--profile",
        "tiny",
        "--data",
        str(small_csv),
        "--preprocessing",
        "none",
        "--tune",
        "tfidf",
        "--trials",
        "3",
        "--tuning-storage",
        storage,
        "--tuning-study",
        "shared",
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--set",
        f"cache_dir={tmp_path / 'cache'}",
        "--set",
        f"reports_dir={tmp_path / 'reports'}",
        "--set",
        "tuning.heartbeat_s=1",
        "--set",
        "tuning.grace_period_s=2",
        *extra,
    ]


def _await_running_trial(storage: str, name: str, timeout: float = 180.0) -> optuna.trial.FrozenTrial:
    """The first trial running inside its MLflow run (its values drawn, its worker recorded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            running = [t for t in _trials(storage, name) if t.state == TrialState.RUNNING]
        except KeyError:  # the study is not created yet
            running = []
        if running and "mlflow_run_id" in running[0].user_attrs:
            return running[0]
        time.sleep(0.5)
    raise AssertionError(f"no trial of {name} started within {timeout:.0f} s")


def test_shared_study_settings_are_typed_and_checked() -> None:
    args = build_parser().parse_args(
        ["train", "--tune", "tfidf", "--tuning-storage", "sqlite:///t.db", "--tuning-workers", "2"]
        + ["--tuning-study", "nightly"]
    )
    tuning = build_config(args).tuning
    assert (tuning.storage, tuning.workers, tuning.study_name) == ("sqlite:///t.db", 2, "nightly")
    assert build_config(build_parser().parse_args(["train"])).tuning.storage is None  # in memory by default
    with pytest.raises(ConfigError, match="needs tuning.storage"):
        TuningConfig(workers=2)
    with pytest.raises(ConfigError, match="password"):
        TuningConfig(storage="postgresql+psycopg://user:secret@db/tuning")
    with pytest.raises(ConfigError, match="in-memory"):
        TuningConfig(storage="sqlite:///:memory:")
    with pytest.raises(ConfigError, match="sqlite:/// or postgresql://"):
        TuningConfig(storage="mysql://db/tuning")
    with pytest.raises(ConfigError, match="grace_period_s"):
        TuningConfig(heartbeat_s=30, grace_period_s=10)
    assert storage_url(TuningConfig(storage="postgresql://u@h/db")) == "postgresql+psycopg://u@h/db"


@pytest.mark.slow
def test_two_workers_share_one_study(small_csv: Path, tmp_path: Path, postgres) -> None:
    storage = postgres.create_database("tuning_two_workers")
    config = tiny_config(small_csv, tmp_path)
    tuning = TuningConfig(
        families=("tfidf",), n_trials=4, search_spaces={"tfidf": SPACE}, storage=storage, workers=2, trial_sleep_s=4.0
    )  # each trial a few seconds: both workers are up before the first one could run them all
    config = dataclasses.replace(config, preprocessing=("none",), tuning=tuning)
    result = run_pipeline(config)
    parent = MlflowClient().get_run(result.runs[0].run_id)
    trials = _trials(storage, parent.data.tags["tuning_study"])
    finished = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(finished) == 4  # n_trials over both workers, none lost
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # unique numbers
    # Anything else is a trial two workers asked for at once: failed before drawing values or logging a run.
    assert all(t.state == TrialState.FAIL and not t.params for t in trials if t not in finished)
    assert len({t.user_attrs["worker"] for t in finished}) == 2  # both worker processes ran trials
    assert str(os.getpid()) not in {t.user_attrs["worker"].split(":")[1] for t in finished}
    children = _children(parent.info.run_id)
    assert len(children) == 4 and {c.info.status for c in children} == {"FINISHED"}
    assert {c.info.run_id for c in children} == {t.user_attrs["mlflow_run_id"] for t in finished}
    by_run = {t.user_attrs["mlflow_run_id"]: t for t in finished}
    for child in children:  # each nested run holds its trial's values and score
        trial = by_run[child.info.run_id]
        assert float(child.data.params["C"]) == pytest.approx(trial.params["C"])
        assert child.data.metrics["human_select_roc_auc"] == pytest.approx(trial.value)
    _assert_final_model_uses_best(parent, finished)
    assert parent.data.params["tuning.workers"] == "2" and parent.data.params["tuning.storage"] == storage
    assert parent.data.metrics["tuning_trials"] == 4


@pytest.mark.slow
def test_killed_worker_fails_its_trial_and_a_rerun_finishes_the_study(
    small_csv: Path, tmp_path: Path, postgres
) -> None:
    storage = postgres.create_database("tuning_killed_worker")
    command = _cli("train", small_csv, tmp_path, storage)
    log = (tmp_path / "lead.log").open("w")
    lead = subprocess.Popen(
        [*command, "--set", "tuning.trial_sleep_s=600"], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        killed = _await_running_trial(storage, "shared-tfidf-none")
        os.kill(int(killed.user_attrs["worker"].split(":")[1]), signal.SIGKILL)
        assert lead.wait(timeout=120) == 2  # the lead waits for the heartbeat to go stale, then says so
    finally:
        if lead.poll() is None:
            lead.kill()
        log.close()
    output = (tmp_path / "lead.log").read_text()
    assert "0 of 3 trials finished" in output and "run the same command again" in output
    trials = {t.number: t for t in _trials(storage, "shared-tfidf-none")}
    assert trials[killed.number].state == TrialState.FAIL  # by heartbeat: the lead looked after the grace period
    assert [t.state for t in trials.values()].count(TrialState.WAITING) == 1  # its values queued again
    configure_tracking(TrackingConfig(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}"))
    assert MlflowClient().get_run(killed.user_attrs["mlflow_run_id"]).info.status == "FAILED"

    rerun = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    trials = _trials(storage, "shared-tfidf-none")
    finished = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(finished) == 3 and [t.number for t in trials if t.state == TrialState.FAIL] == [killed.number]
    retried = [t for t in finished if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params  # the killed trial's values, run again
    parents = MlflowClient().search_runs(
        [MlflowClient().get_experiment_by_name("air-paradise-sentiment").experiment_id],
        "tags.tuning_study = 'shared-tfidf-none' and attributes.status = 'FINISHED' and tags.family = 'tfidf'",
    )
    parent = next(p for p in parents if "mlflow.parentRunId" not in p.data.tags)
    children = _children(parent.info.run_id)
    assert len(children) == 3 and {c.info.status for c in children} == {"FINISHED"}
    _assert_final_model_uses_best(parent, finished)


@pytest.mark.slow
def test_a_worker_joins_from_another_machine(small_csv: Path, tmp_path: Path, postgres) -> None:
    """``tune-worker`` with the lead's settings: its trials are nested runs of the lead's parent run."""
    storage = postgres.create_database("tuning_joined")
    sleep = ("--set", "tuning.trial_sleep_s=4")
    options = {"cwd": PROJECT_ROOT, "capture_output": True, "text": True, "timeout": 600}
    configure_tracking(TrackingConfig(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}"))  # one process makes it
    worker = subprocess.Popen(
        _cli("tune-worker", small_csv, tmp_path, storage, *sleep),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lead = subprocess.run(_cli("train", small_csv, tmp_path, storage, *sleep), **options)
        worker_out, worker_err = worker.communicate(timeout=300)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert lead.returncode == 0, lead.stderr[-3000:]
    assert worker.returncode == 0, worker_err[-3000:]
    assert "study shared-tfidf-none: 3 of 3 trials finished" in worker_out
    trials = _trials(storage, "shared-tfidf-none")
    finished = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(finished) == 3 and len({t.user_attrs["worker"] for t in finished}) == 2  # the lead's and the joined
    nested = [
        r
        for r in mlflow.search_runs(search_all_experiments=True, output_format="list")
        if "tuning_worker" in r.data.tags
    ]
    assert {r.info.run_id for r in nested} == {t.user_attrs["mlflow_run_id"] for t in finished}
    assert len({r.data.tags["tuning_worker"] for r in nested}) == 2
    (parent_id,) = {r.data.tags["mlflow.parentRunId"] for r in nested}  # one parent: the lead's
    parent = MlflowClient().get_run(parent_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["tuning_study"] == "shared-tfidf-none"
    _assert_final_model_uses_best(parent, finished)
