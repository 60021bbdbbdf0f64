"""Training jobs launched from the Train page run in their own processes against a real
SQLite store: a launch ends in a finished, registered run; a cancellation ends the run as
KILLED with nothing registered; a queued launch can be removed before it starts."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from streamlit.testing.v1 import AppTest

from core.jobs import CANCELLED, CANCELLED_EXIT_CODE, FINISHED, QUEUED, RUNNING
from tests.console.conftest import open_console, poll, queue_of

JOB_TIMEOUT_S = 120


def launch(at: AppTest, data: Path, variant: str, rows: int | None = None) -> int:
    """Fill the Train page for a tiny TF-IDF training without the out-of-domain set; launch; the job id."""
    at.selectbox(key="profile").set_value("tiny").run()
    at.text_input(key="data-tiny").set_value(str(data)).run()
    at.multiselect(key="pre-tiny").set_value([variant]).run()
    at.checkbox(key="ood-tiny").uncheck().run()
    if rows is not None:
        at.number_input(key="rows-tiny").set_value(rows).run()
    at.button(key="launch").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    message = at.success[0].value
    assert message.startswith("Queued job #"), message
    return int(message.removeprefix("Queued job #").split(":")[0])


def runs_of(uri: str) -> list[mlflow.entities.Run]:
    mlflow.set_tracking_uri(uri)
    return MlflowClient().search_runs([mlflow.get_experiment_by_name("air-paradise-sentiment").experiment_id])


def test_a_launch_runs_in_the_background_and_finishes_registered(
    empty_store: str, small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_console(monkeypatch, empty_store, "Train")
    job_id = launch(at, small_csv, "stem")
    queue = queue_of(empty_store)
    job = queue.wait(job_id, JOB_TIMEOUT_S)
    assert job.status == FINISHED and job.exit_code == 0, job.log_tail()
    assert job.progress().stage == "done" and job.progress().fraction == 1.0

    (run,) = runs_of(empty_store)
    assert run.info.status == "FINISHED" and run.info.run_name == "tfidf-stem"
    assert run.data.params["data.path"] == str(small_csv) and run.data.params["data.ood"] == "False"
    assert MlflowClient().get_model_version_by_alias("air-paradise-sentiment", "champion").run_id == run.info.run_id

    at.run()
    jobs = at.dataframe[0].value
    assert list(jobs["job"]) == [job_id] and jobs["status"][0].endswith(FINISHED)
    at.sidebar.radio(key="page").set_value("Compare").run()
    assert list(at.dataframe[0].value["label"]) == ["tfidf-stem v1"]


def test_cancel_ends_the_run_killed_with_nothing_registered(empty_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import DEFAULT_DATA_PATH

    at = open_console(monkeypatch, empty_store, "Train")
    running_id = launch(at, DEFAULT_DATA_PATH, "stem", rows=20_000)  # seconds of fitting: time to cancel
    queued_id = launch(at, DEFAULT_DATA_PATH, "none")
    queue = queue_of(empty_store)
    assert queue.get(queued_id).status == QUEUED  # one job at a time

    at.button(key=f"cancel-{queued_id}").click().run()  # "Remove" on the queued job
    assert not at.exception and queue.get(queued_id).status == CANCELLED

    poll(lambda: queue.get(running_id).status == RUNNING, JOB_TIMEOUT_S, "the first job to start")
    at.run()
    bar = at.get("progress")[0].proto.text  # the live bar of the running job
    assert re.fullmatch(r"\d{1,3}% · (starting .*|preparing data|run 1/1 tfidf-stem · \w+)", bar), bar
    poll(
        lambda: (p := queue.get(running_id).progress()) and p.stage == "fitting",
        JOB_TIMEOUT_S,
        "the first job to start fitting",
        every_s=0.05,
    )
    at.button(key=f"cancel-{running_id}").click().run()  # its callback runs first: no delay
    assert not at.exception
    assert "Cancelling: the current run will end as KILLED" in at.warning[0].value

    job = queue.wait(running_id, JOB_TIMEOUT_S)
    assert job.status == CANCELLED and job.exit_code == CANCELLED_EXIT_CODE, job.log_tail()
    assert job.progress().stage == "cancelled"
    assert "nothing of it registered" in job.log_tail()
    (run,) = runs_of(empty_store)
    assert run.info.status == "KILLED" and run.info.run_name == "tfidf-stem"
    assert MlflowClient().search_model_versions("name='air-paradise-sentiment'") == []
    assert queue.get(queued_id).started_at is None  # removed before it ever ran
    poll(lambda: not queue.worker_alive(), 30, "the worker to exit once the queue is empty")
