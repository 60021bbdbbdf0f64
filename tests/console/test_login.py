"""The console's login gate: without the console password, Launch, Cancel/Remove, Promote and the
choice of another store are refused with a message (nothing queued, nothing cancelled, the alias
where it was, the default store kept); a wrong password is refused; the right one, given as
``CONSOLE_PASSWORD`` or as its SHA-256, unlocks them. With no password set, the console is read-only.
Every check runs the real console under AppTest on real SQLite stores and job queues."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.auth import PasswordGate
from console.jobs import CANCELLED, QUEUED, JobQueue
from core.errors import ConfigError
from core.tracking.registry import alias_version, set_alias
from stack.launcher import console_login
from tests.console.conftest import CONSOLE_PASSWORD, go_to, log_in, open_console, queue_of

LOGIN_HINT = "Refused: log in with the console password (sidebar) to"
READ_ONLY = "Refused: this console is read-only (no CONSOLE_PASSWORD or CONSOLE_PASSWORD_SHA256 set)"


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_the_password_gate_from_the_environment() -> None:
    digest = hashlib.sha256(b"s3cret pass").hexdigest()
    for env in ({"CONSOLE_PASSWORD": "s3cret pass"}, {"CONSOLE_PASSWORD_SHA256": digest.upper()}):
        gate = PasswordGate.from_env(env)
        assert gate.configured and gate.check("s3cret pass")
        assert not gate.check("s3cret pas") and not gate.check("") and not gate.check("S3CRET PASS")
        assert digest not in repr(gate).lower() and "s3cret" not in repr(gate)
    # The digest wins when both are set: .env may keep a stale plain password beside it.
    both = PasswordGate.from_env({"CONSOLE_PASSWORD": "old one", "CONSOLE_PASSWORD_SHA256": digest})
    assert both.check("s3cret pass") and not both.check("old one")
    for unset in ({}, {"CONSOLE_PASSWORD": "", "CONSOLE_PASSWORD_SHA256": " "}, {"CONSOLE_PASSWORD": "   "}):
        gate = PasswordGate.from_env(unset)
        assert not gate.configured and not gate.check("") and not gate.check("anything")
    with pytest.raises(ConfigError, match="CONSOLE_PASSWORD_SHA256 is not a SHA-256 digest"):
        PasswordGate.from_env({"CONSOLE_PASSWORD_SHA256": "s3cret pass"})


def test_the_local_stack_gives_the_console_a_password() -> None:
    extra, line = console_login({})  # none set: one generated, and printed like the API key
    password = extra["CONSOLE_PASSWORD"]
    assert len(password) >= 16 and line == f"console password: {password}"
    assert PasswordGate.from_env(extra).check(password)
    assert console_login({})[0]["CONSOLE_PASSWORD"] != password  # a new one each start
    # One set is kept, and not printed.
    assert console_login({"CONSOLE_PASSWORD": "mine"}) == ({}, "console password: $CONSOLE_PASSWORD")
    digest = hashlib.sha256(b"mine").hexdigest()
    assert console_login({"CONSOLE_PASSWORD_SHA256": digest})[0] == {}


@pytest.fixture
def held_queue(empty_store: str) -> Iterator[JobQueue]:
    """The empty store's job queue with its worker lock held by the test: launched jobs stay queued
    (no training starts); whatever is still queued at the end is cancelled before the lock is freed."""
    queue = queue_of(empty_store)
    with open(queue.folder / "worker.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield queue
        finally:
            for job in queue.jobs():
                if job.status == QUEUED:
                    queue.cancel(job.id)
            fcntl.flock(lock, fcntl.LOCK_UN)


def fill_tiny_launch(at: AppTest, data: Path) -> None:
    """The Train page set for a tiny TF-IDF training on ``data`` (valid: it would be queued)."""
    at.selectbox(key="profile").set_value("tiny").run()
    at.text_input(key="data-tiny").set_value(str(data)).run()
    at.multiselect(key="pre-tiny").set_value(["none"]).run()


def test_launch_and_remove_need_the_login(
    empty_store: str, held_queue: JobQueue, small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSOLE_PASSWORD", CONSOLE_PASSWORD)
    at = open_console(monkeypatch, empty_store, "Train", login=False)
    assert at.sidebar.button(key="login").label == "Log in"
    assert any("Read-only until you log in" in c.value for c in at.sidebar.caption)
    fill_tiny_launch(at, small_csv)
    launch = at.button(key="launch")
    assert launch.help == "Log in (sidebar) to launch a training."
    launch.click().run()
    assert errors(at) == [f"{LOGIN_HINT} launch a training."]
    assert not at.success and held_queue.jobs() == []  # nothing queued

    log_in(at, "not-the-password")
    assert errors(at) == ["Wrong password: still read-only."]
    assert at.sidebar.text_input(key="console_password").value == ""  # cleared
    at.button(key="launch").click().run()
    assert errors(at) == [f"{LOGIN_HINT} launch a training."] and held_queue.jobs() == []

    # A job queued by a logged-in user (another tab): this session may not remove it.
    queued = held_queue.submit(["--profile", "tiny", "--data", str(small_csv)], "someone else's job").id
    at.run()
    at.button(key=f"cancel-{queued}").click().run()
    assert errors(at) == [f"{LOGIN_HINT} cancel or remove a training job."]
    assert held_queue.get(queued).status == QUEUED  # nothing cancelled

    log_in(at)
    assert not errors(at) and any(c.value.startswith("🔓 Logged in") for c in at.sidebar.caption)
    assert not at.button(key="launch").help  # no "log in" tooltip any more
    at.button(key="launch").click().run()
    assert [s.value for s in at.success] == [f"Queued job #{queued + 1}: tiny: tfidf × none"]
    assert [j.status for j in held_queue.jobs()] == [QUEUED, QUEUED]
    at.button(key=f"cancel-{queued}").click().run()
    assert not errors(at) and held_queue.get(queued).status == CANCELLED

    # The login holds across pages, and ends with "Log out".
    go_to(at, "Compare")
    assert not at.sidebar.text_input(key="tracking_uri").disabled
    at.sidebar.button(key="logout").click().run()
    assert at.sidebar.text_input(key="tracking_uri").disabled
    go_to(at, "Train")
    at.button(key="launch").click().run()
    assert errors(at) == [f"{LOGIN_HINT} launch a training."]
    assert [j.status for j in held_queue.jobs()] == [QUEUED, CANCELLED]  # nothing more queued


def test_another_store_needs_the_login(empty_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_PASSWORD", CONSOLE_PASSWORD)
    at = open_console(monkeypatch, empty_store, "Compare", login=False)
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere' / 'mlflow.db'}"
    assert at.sidebar.text_input(key="tracking_uri").disabled
    at.session_state["tracking_uri"] = elsewhere  # set behind the widget's back: still the default store
    at.run()
    assert f"Store: `{empty_store}`" in [c.value for c in at.sidebar.caption]
    assert not (tmp_path / "elsewhere").exists()  # no store created there

    log_in(at)
    at.sidebar.text_input(key="tracking_uri").set_value(elsewhere).run()
    assert f"Store: `{elsewhere}`" in [c.value for c in at.sidebar.caption]
    assert (tmp_path / "elsewhere" / "mlflow.db").exists()


def test_promotion_needs_the_login(trained, trained_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config, result = trained
    champion = result.champion.version
    other = next(r.version for r in result.runs if r.version != champion)
    digest = hashlib.sha256(CONSOLE_PASSWORD.encode()).hexdigest()
    monkeypatch.setenv("CONSOLE_PASSWORD_SHA256", digest)  # .env holding the digest, not the password
    page = open_console(monkeypatch, trained_uri, "Model", login=False)
    page.selectbox(key="version").set_value(other).run()
    promote = page.button(key="promote")
    assert promote.help == "Log in (sidebar) to promote a version."
    promote.click().run()
    assert errors(page) == [f"{LOGIN_HINT} promote a version."]
    assert not page.warning or all("Make v" not in w.value for w in page.warning)  # no confirmation asked
    assert alias_version(config.tracking) == champion

    log_in(page, digest)  # the digest itself is not the password
    assert errors(page) == ["Wrong password: still read-only."]
    page.button(key="promote").click().run()
    assert alias_version(config.tracking) == champion

    log_in(page)
    page.button(key="promote").click().run()
    assert "Make v" in page.warning[0].value
    page.sidebar.button(key="logout").click().run()  # logged out before confirming
    page.button(key="confirm_promote").click().run()
    assert errors(page) == [f"{LOGIN_HINT} promote a version."]
    assert alias_version(config.tracking) == champion

    log_in(page)
    page.button(key="promote").click().run()
    page.button(key="confirm_promote").click().run()
    try:
        assert not page.exception and not errors(page)
        assert alias_version(config.tracking) == other
    finally:  # the session's store is shared: leave the champion as the other tests expect it
        set_alias(config.tracking, champion)


def test_without_a_password_the_console_is_read_only(
    empty_store: str, held_queue: JobQueue, small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_console(monkeypatch, empty_store, "Train", login=False)  # no CONSOLE_PASSWORD(_SHA256)
    assert [w.key for w in at.sidebar.text_input] == ["tracking_uri"] and not at.sidebar.button  # no login form
    assert at.sidebar.text_input(key="tracking_uri").disabled
    assert any(c.value.startswith("🔒 Read-only: no console password is set") for c in at.sidebar.caption)
    fill_tiny_launch(at, small_csv)
    at.button(key="launch").click().run()
    assert errors(at) == [f"{READ_ONLY}, so it cannot launch a training."]
    assert held_queue.jobs() == []
    go_to(at, "Compare")  # the read-only pages are there
    assert not at.exception and at.header[0].value == "Compare"


def test_a_malformed_password_digest_leaves_the_console_read_only(
    empty_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSOLE_PASSWORD_SHA256", "not-a-digest")
    at = open_console(monkeypatch, empty_store, "Train", login=False)
    assert [e.value for e in at.sidebar.error][0].startswith("CONSOLE_PASSWORD_SHA256 is not a SHA-256 digest")
    assert not at.sidebar.button  # no login form
    at.button(key="launch").click().run()
    assert f"{READ_ONLY}, so it cannot launch a training." in errors(at)
