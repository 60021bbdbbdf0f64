"""Training jobs launched from the Train page run one at a time in processes of their own,
against a real SQLite store: a queued launch can be removed before it starts, cancelling the
running one ends its run as KILLED with nothing registered, and the next launch then runs to a
finished, registered run that the Compare page lists."""

from __future__ import annotations

import fcntl
import re
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from streamlit.testing.v1 import AppTest

from console.jobs import CANCELLED, CANCELLED_EXIT_CODE, FINISHED, QUEUED, RUNNING
from core.config import DEFAULT_DATA_PATH
from tests.console.conftest import go_to, open_console, poll, queue_of

pytestmark = pytest.mark.slow  # see the markers in pyproject.toml

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


def runs_by_name(uri: str) -> dict[str, mlflow.entities.Run]:
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("air-paradise-sentiment").experiment_id
    return {run.info.run_name: run for run in client.search_runs([experiment])}


def test_queue_remove_cancel_then_the_next_launch_finishes_registered(
    empty_store: str, small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_console(monkeypatch, empty_store, "Train")
    queue = queue_of(empty_store)
    # The test holds the worker's lock while it launches: the page sees a live worker and starts none, so
    # the three jobs are queued in order however slow the launches are under load.
    with open(queue.folder / "worker.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        slow = launch(at, DEFAULT_DATA_PATH, "stem", rows=60_000)  # all 60k tweets, stemmed: long enough
        quick = launch(at, small_csv, "none")
        removed = launch(at, small_csv, "lemmatize")
        assert [queue.get(job).status for job in (slow, quick, removed)] == [QUEUED] * 3

        at.button(key=f"cancel-{removed}").click().run()  # "Remove" on a queued job
        assert not at.exception and queue.get(removed).status == CANCELLED
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert queue.ensure_worker()  # what the next page refresh does once the lock is free

    poll(lambda: queue.get(slow).status == RUNNING, JOB_TIMEOUT_S, "the first job to start")
    assert queue.get(quick).status == QUEUED  # one job at a time
    at.run()
    bar = at.get("progress")[0].proto.text  # the live bar of the running job
    assert re.fullmatch(r"\d{1,3}% · (starting .*|preparing data|run 1/1 tfidf-stem · \w+)", bar), bar
    poll(
        lambda: (p := queue.get(slow).progress()) and p.stage == "fitting",
        JOB_TIMEOUT_S,
        "the first job to start fitting",
        every_s=0.05,
    )
    at.button(key=f"cancel-{slow}").click().run()  # its callback runs first: no delay
    assert not at.exception
    assert "Cancelling: the current run will end as KILLED" in at.warning[0].value

    job = queue.wait(slow, JOB_TIMEOUT_S)
    assert job.status == CANCELLED and job.exit_code == CANCELLED_EXIT_CODE, job.log_tail()
    assert job.progress().stage == "cancelled" and "nothing of it registered" in job.log_tail()

    job = queue.wait(quick, JOB_TIMEOUT_S)  # the worker went on with the next queued job
    assert job.status == FINISHED and job.exit_code == 0, job.log_tail()
    assert job.progress().stage == "done" and job.progress().fraction == 1.0
    assert queue.get(removed).started_at is None  # removed before it ever ran
    poll(lambda: not queue.worker_alive(), 30, "the worker to exit once the queue is empty")

    runs = runs_by_name(empty_store)
    assert {name: run.info.status for name, run in runs.items()} == {"tfidf-stem": "KILLED", "tfidf-none": "FINISHED"}
    assert runs["tfidf-none"].data.params["data.path"] == str(small_csv)
    versions = MlflowClient().search_model_versions("name='air-paradise-sentiment'")
    assert [v.run_id for v in versions] == [runs["tfidf-none"].info.run_id]  # nothing of the killed run
    champion = MlflowClient().get_model_version_by_alias("air-paradise-sentiment", "champion")
    assert champion.run_id == runs["tfidf-none"].info.run_id

    at.run()
    jobs = at.dataframe[0].value.set_index("job")["status"]
    assert jobs.to_dict() == {removed: "🛑 cancelled", quick: "✅ finished", slow: "🛑 cancelled"}
    go_to(at, "Compare")
    assert list(at.dataframe[0].value["label"]) == ["tfidf-none v1"]  # the killed run is not listed
