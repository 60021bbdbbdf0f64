"""Dependency hygiene: scripts/audit_dependencies.py classifies every pin from PyPI's JSON API.

The decision logic runs over the real HTTP code path against a loopback server that serves documents shaped
like PyPI's ``/pypi/<name>/json``; one test runs the audit against the real PyPI over the project's own
requirement files (the check of .ci/run: no pin with a known, unaccepted vulnerability, none yanked).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scripts.audit_dependencies import (
    POLICY_FILE,
    REQUIREMENT_FILES,
    ROOT,
    audit,
    describe,
    load_policy,
    main,
    read_pins,
    same_version,
)

SCRIPT = ROOT / "scripts" / "audit_dependencies.py"


def release_file(name: str, version: str, yanked_reason: str | None = None, yanked: bool = False) -> dict[str, Any]:
    """One file entry of ``releases[version]``, with PyPI's keys."""
    filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    return {
        "comment_text": "",
        "digests": {"md5": "0" * 32, "sha256": "0" * 64, "blake2b_256": "0" * 64},
        "filename": filename,
        "has_sig": False,
        "md5_digest": "0" * 32,
        "packagetype": "bdist_wheel",
        "python_version": "py3",
        "requires_python": ">=3.9",
        "size": 1234,
        "upload_time": "2026-01-02T03:04:05",
        "upload_time_iso_8601": "2026-01-02T03:04:05.000000Z",
        "url": f"https://files.pythonhosted.org/packages/00/00/{filename}",
        "yanked": yanked or yanked_reason is not None,
        "yanked_reason": yanked_reason,
    }


def advisory(advisory_id: str, aliases: list[str], fixed_in: list[str], withdrawn: str | None = None) -> dict:
    """One entry of ``vulnerabilities``, with PyPI's keys (its data comes from OSV)."""
    return {
        "aliases": aliases,
        "details": f"Details of {advisory_id}.\nSecond line.",
        "fixed_in": fixed_in,
        "id": advisory_id,
        "link": f"https://osv.dev/vulnerability/{advisory_id}",
        "source": "osv",
        "summary": None,
        "withdrawn": withdrawn,
    }


def project(
    name: str, latest: str, versions: dict[str, str | None], vulnerabilities: list[dict] | None = None
) -> dict[str, Any]:
    """A project document as PyPI's JSON API answers it; ``versions`` maps each release to its yank reason."""
    releases = {
        version: [release_file(name, version, reason, yanked=reason is not None)]
        for version, reason in versions.items()
    }
    return {
        "info": {"name": name, "version": latest, "requires_python": ">=3.9", "yanked": False, "summary": name},
        "last_serial": 123456,
        "releases": releases,
        "urls": releases[latest],
        "vulnerabilities": vulnerabilities or [],
    }


DOCUMENTS = {
    # The pin is the latest release and PyPI lists an advisory for it (and a withdrawn one, to be ignored).
    "vulnpkg": project(
        "vulnpkg",
        "2.0",
        {"1.0": None, "2.0": None},
        [
            advisory("GHSA-aaaa-bbbb-cccc", ["CVE-2026-0001"], ["2.0.1"]),
            advisory("GHSA-dddd-eeee-ffff", [], [], withdrawn="2026-02-01T00:00:00Z"),
        ],
    ),
    # Listed, but accepted in the policy by its CVE alias.
    "acceptedpkg": project(
        "acceptedpkg", "1.0", {"1.0": None}, [advisory("PYSEC-2026-7", ["CVE-2026-0002", "GHSA-gggg-hhhh-iiii"], [])]
    ),
    "yankedpkg": project("yankedpkg", "1.2", {"1.1": "broken wheel metadata", "1.2": None}),
    # Behind: the advisory listed is for 2.0, the latest, and says nothing about the pinned 1.0.
    "behindpkg": project(
        "behindpkg", "2.0", {"1.0": None, "2.0": None}, [advisory("GHSA-jjjj-kkkk-llll", [], ["2.0.1"])]
    ),
    "cleanpkg": project("cleanpkg", "3.0.0", {"2.9": None, "3.0.0": None}),
    "mixed-case-name": project("Mixed_Case.Name", "1.0", {"1.0": None}),
    "norelease": project("norelease", "1.0", {"1.0": None}),
}


@dataclass
class FakeIndex:
    """A loopback server answering ``GET /pypi/<name>/json`` from ``documents``; counts requests per name."""

    url: str
    documents: dict[str, dict[str, Any]]
    hits: Counter = field(default_factory=Counter)
    fail_first: dict[str, int] = field(default_factory=dict)  # name -> how many 503 answers before the document


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    """The fake index, serving a copy of DOCUMENTS on a free loopback port."""
    state = FakeIndex(url="", documents=json.loads(json.dumps(DOCUMENTS)))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = self.path.strip("/").split("/")
            name = parts[1] if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" else ""
            state.hits[name] += 1
            if state.fail_first.get(name, 0) >= state.hits[name]:
                self.send_error(503, "Service Unavailable")
            elif name in state.documents:
                body = json.dumps(state.documents[name]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404, "Not Found")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/pypi"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[accepted]\n"CVE-2026-0002" = "only the unused CLI is affected"\n\n'
        '[held-back]\nBehindPkg = "otherpkg requires behindpkg<2"\n',
        encoding="utf-8",
    )
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    """main(argv + --json): exit code and the parsed report."""
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_each_class_of_pin_and_the_exit_code(
    index: FakeIndex, policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_file = write(
        tmp_path / "requirements.txt",
        "# pins\n"
        "acceptedpkg==1.0\n"
        "behindpkg==1.0\n"
        'cleanpkg[extra]==3.0 ; python_version >= "3.8"  # extras, marker, comment, 3.0 == 3.0.0\n'
        "Mixed_Case.Name==1.0\n"
        "vulnpkg==2.0 \\\n    --hash=sha256:0000\n"
        "yankedpkg==1.1\n"
        "unpinned>=1\n"
        "-r other.txt\n",
    )
    slim_file = write(tmp_path / "requirements-slim.txt", "cleanpkg==3.0\nyankedpkg==1.1\n")
    argv = ["--requirements", str(main_file), "--requirements", str(slim_file), "--policy", str(policy_file)]
    code, report = run_json(capsys, [*argv, "--index-url", index.url])

    assert code == 1 and report["exit_code"] == 1
    verdicts = {(p["name"], p["version"]): p for p in report["pins"]}
    assert {key: v["status"] for key, v in verdicts.items()} == {
        ("acceptedpkg", "1.0"): "accepted",
        ("behindpkg", "1.0"): "behind",
        ("cleanpkg", "3.0"): "clean",
        ("mixed-case-name", "1.0"): "clean",
        ("vulnpkg", "2.0"): "vulnerable",
        ("yankedpkg", "1.1"): "yanked",
    }
    assert report["counts"] == {"clean": 2, "behind": 1, "vulnerable": 1, "accepted": 1, "yanked": 1, "missing": 0}
    # Deduplicated across files, each project fetched once.
    assert verdicts[("cleanpkg", "3.0")]["files"] == ["requirements.txt", "requirements-slim.txt"]
    assert all(count == 1 for count in index.hits.values()) and "unpinned" not in index.hits
    # The withdrawn advisory is left out; the live one carries PyPI's id, aliases, fix and link.
    [vulnerability] = verdicts[("vulnpkg", "2.0")]["vulnerabilities"]
    assert vulnerability["id"] == "GHSA-aaaa-bbbb-cccc" and vulnerability["aliases"] == ["CVE-2026-0001"]
    assert vulnerability["fixed_in"] == ["2.0.1"] and vulnerability["summary"] == "Details of GHSA-aaaa-bbbb-cccc."
    assert verdicts[("acceptedpkg", "1.0")]["accepted"] == {"PYSEC-2026-7": "only the unused CLI is affected"}
    assert verdicts[("yankedpkg", "1.1")]["yanked_reason"] == "broken wheel metadata"
    # A behind pin is not blamed for its latest release's advisory, and says why it is held back.
    behind = verdicts[("behindpkg", "1.0")]
    assert behind["latest"] == "2.0" and behind["vulnerabilities"] == []
    assert behind["held_back"] == "otherpkg requires behindpkg<2"

    # The text report: the table, the details a reader acts on, the counts and the time.
    assert main([*argv, "--index-url", index.url]) == 1
    text = capsys.readouterr().out
    assert (
        "GHSA-aaaa-bbbb-cccc (CVE-2026-0001) fixed in 2.0.1 https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc" in text
    )
    assert "ACCEPTED: only the unused CLI is affected" in text
    assert "yanked: broken wheel metadata" in text and "held back: otherpkg requires behindpkg<2" in text
    assert "6 pins from requirements.txt, requirements-slim.txt: 2 clean, 1 behind, 1 vulnerable, 1 accepted" in text
    assert f"index {index.url}, " in text and " s\n" in text


def test_accepted_and_behind_findings_pass(
    index: FakeIndex, policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = write(tmp_path / "requirements.txt", "acceptedpkg==1.0\nbehindpkg==1.0\ncleanpkg==3.0.0\n")
    code, report = run_json(
        capsys, ["--requirements", str(pins), "--policy", str(policy_file), "--index-url", index.url]
    )
    assert code == 0
    assert report["counts"] == {"clean": 1, "behind": 1, "vulnerable": 0, "accepted": 1, "yanked": 0, "missing": 0}

    # Without the policy, the same advisory fails the audit.
    code, report = run_json(
        capsys, ["--requirements", str(pins), "--policy", str(tmp_path / "none.toml"), "--index-url", index.url]
    )
    assert code == 1 and report["counts"]["vulnerable"] == 1


def test_unknown_project_or_release_is_missing(
    index: FakeIndex, policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = write(tmp_path / "requirements.txt", "norelease==0.9\nnosuchproject==1.0\n")
    code, report = run_json(
        capsys, ["--requirements", str(pins), "--policy", str(policy_file), "--index-url", index.url]
    )
    assert code == 1
    assert {p["name"]: p["status"] for p in report["pins"]} == {"norelease": "missing", "nosuchproject": "missing"}


def test_server_errors_are_retried(
    index: FakeIndex, policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.fail_first["cleanpkg"] = 2
    pins = write(tmp_path / "requirements.txt", "cleanpkg==3.0\n")
    argv = ["--requirements", str(pins), "--policy", str(policy_file), "--index-url", index.url]
    code, report = run_json(capsys, argv)
    assert code == 0 and report["counts"]["clean"] == 1 and index.hits["cleanpkg"] == 3

    # Once the retries are spent: exit 2 and one clear line.
    index.hits.clear()
    index.fail_first["cleanpkg"] = 10
    assert main([*argv, "--retries", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and index.hits["cleanpkg"] == 2
    assert (
        captured.err
        == f"error: cannot reach the package index at {index.url} (cleanpkg: HTTP 503 Service Unavailable)\n"
    )


def test_unreachable_index_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pins = write(tmp_path / "requirements.txt", "cleanpkg==3.0\nvulnpkg==2.0\n")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--requirements", str(pins), "--index-url", f"http://127.0.0.1:{port}/pypi"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith(f"error: cannot reach the package index at http://127.0.0.1:{port}/pypi (")
    assert "Connection refused" in completed.stderr
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr


def test_the_ci_audit_job_ignores_the_same_accepted_ids(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--policy", str(policy_file), "--ignore-vuln-args"]) == 0
    assert capsys.readouterr().out == "--ignore-vuln CVE-2026-0002\n"
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "scripts/audit_dependencies.py --ignore-vuln-args" in workflow
    # The project's own policy file parses, and its held-back packages are pinned somewhere.
    policy = load_policy(ROOT / POLICY_FILE)
    pinned = {pin.name for pin in read_pins([ROOT / name for name in REQUIREMENT_FILES])}
    assert set(policy.held_back) <= pinned


@pytest.mark.network
def test_live_pypi_no_known_vulnerable_or_yanked_pin() -> None:
    """The project's real pins against the real PyPI JSON API (the network check of .ci/run)."""
    files = [ROOT / name for name in REQUIREMENT_FILES]
    report = audit(files, load_policy(ROOT / POLICY_FILE))
    pins = read_pins(files)
    assert len(report.verdicts) == len(pins) > 100
    failing = [
        f"{v.name}=={v.version}: {v.status} {describe(v)}"
        for v in report.verdicts
        if v.status in ("vulnerable", "yanked", "missing")
    ]
    assert failing == [], "\n".join(failing)
    counts = report.counts()
    assert counts["clean"] + counts["behind"] + counts["accepted"] == len(pins) and counts["clean"] > 0
    for verdict in report.verdicts:
        assert verdict.latest, verdict.name
        assert (verdict.status == "behind") == (not same_version(verdict.version, verdict.latest)), verdict
