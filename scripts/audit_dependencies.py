"""Dependency audit through PyPI's JSON API: known vulnerabilities and yanked releases of every pin.

The project's machines reach package registries only: ``pip-audit`` cannot run there (PyPI's per-release
JSON endpoint is not served and the OSV service does not resolve). The per-project endpoint
``<index>/<name>/json`` is served, and it carries two facts this script checks for every ``name==version``
pin of the requirement files:

- ``vulnerabilities``: PyPI's known advisories (from OSV) for the project's *latest* release;
- ``releases[version]``: each file of any release, with ``yanked`` and ``yanked_reason``.

So each pin is classified as:

- ``vulnerable``: the pin is the latest release and PyPI lists an advisory for it that is not accepted;
- ``accepted``: the pin is the latest release and every advisory listed for it is accepted in the policy file;
- ``yanked``: a file of the pinned release is yanked (its reason is printed);
- ``missing``: PyPI has no such project or no such release;
- ``behind``: a newer release exists (or the pin is not PyPI's latest), so the JSON API cannot say whether the
  pinned release is affected; not a failure here: the CI job ``audit`` runs the full ``pip-audit`` on them;
- ``clean``: the pin is the latest release and PyPI lists no advisory.

The policy file (``dependency-audit.toml`` at the repository root) lists accepted findings under
``[accepted]`` as ``ID = "reason"`` (an advisory matches by its id or any alias) and, under ``[held-back]``,
why a package is pinned behind its latest release. The CI job feeds the same ids to ``pip-audit`` through
``--ignore-vuln-args``.

Exit status: 0 nothing to act on, 1 an unaccepted finding (vulnerable, yanked or missing), 2 the audit could not
run (PyPI unreachable, unreadable files), with one ``error: ...`` line on stderr.

    .venv/bin/python -m scripts.audit_dependencies            # table of what is not clean, counts, time
    .venv/bin/python -m scripts.audit_dependencies --json     # the whole report as JSON
    .venv/bin/python -m scripts.audit_dependencies --ignore-vuln-args   # "--ignore-vuln ID ..." for pip-audit
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT_FILES = (
    "requirements-dev.txt",
    "requirements-api.txt",
    "requirements-client.txt",
    "requirements-mlflow.txt",
)
POLICY_FILE = "dependency-audit.toml"
DEFAULT_INDEX_URL = "https://pypi.org/pypi"
STATUSES = ("clean", "behind", "vulnerable", "accepted", "yanked", "missing")
FAILING = frozenset({"vulnerable", "yanked", "missing"})
# When a pin has several findings, the status shown is the most serious one.
PRIORITY = ("missing", "yanked", "vulnerable", "accepted", "behind", "clean")
USER_AGENT = "air-paradise-sentiment dependency audit (scripts/audit_dependencies.py)"


class AuditError(Exception):
    """The audit could not run (index unreachable, unreadable input): one clear sentence."""


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` pin; ``name`` is the normalised project name (PEP 503)."""

    name: str
    version: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Vulnerability:
    """One advisory as PyPI's JSON API lists it."""

    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]
    link: str
    summary: str

    def ids(self) -> set[str]:
        """The advisory's id and its aliases (any of them may be accepted)."""
        return {self.id, *self.aliases}


@dataclass(frozen=True)
class Policy:
    """Accepted findings (id -> reason) and the reasons why packages are held behind their latest release."""

    accepted: dict[str, str] = field(default_factory=dict)
    held_back: dict[str, str] = field(default_factory=dict)


@dataclass
class Verdict:
    """The classification of one pin, with what supports it."""

    name: str
    version: str
    files: tuple[str, ...]
    status: str
    latest: str | None = None
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # advisory id -> reason from the policy
    yanked_reason: str | None = None
    held_back: str | None = None


@dataclass
class Report:
    """The audit's outcome: one verdict per pin, the counts and the time it took."""

    index_url: str
    files: list[str]
    verdicts: list[Verdict]
    elapsed_s: float

    def counts(self) -> dict[str, int]:
        """How many pins have each status (every status present, zeros included)."""
        counter = Counter(v.status for v in self.verdicts)
        return {status: counter.get(status, 0) for status in STATUSES}

    def exit_code(self) -> int:
        """1 when any pin has an unaccepted finding, else 0."""
        return 1 if any(v.status in FAILING for v in self.verdicts) else 0


def parse_requirements(path: Path) -> list[tuple[str, str]]:
    """The ``(normalised name, version)`` of every ``==`` pin in a requirements file.

    Comments, blank lines, option lines (``-r``, ``--index-url``), ``--hash`` options and line continuations
    are handled; extras and environment markers are parsed by ``packaging`` (a pin is audited whatever its
    marker says: it is installed somewhere). Lines that are not an exact pin are ignored.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AuditError(f"cannot read {path}: {error.strerror or error}") from None
    pins = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        line = line.split(" --", 1)[0].strip()  # per-requirement options such as --hash
        if not line or line.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise AuditError(f"{path.name}: cannot parse {line!r}: {error}") from None
        exact = [s.version for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
        if len(exact) == 1:
            pins.append((canonicalize_name(requirement.name), exact[0]))
    return pins


def read_pins(paths: list[Path]) -> list[Pin]:
    """Every distinct pin of the given files, with the files that hold it, sorted by name."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        for name, version in parse_requirements(path):
            found.setdefault((name, version), []).append(path.name)
    return [Pin(name, version, tuple(files)) for (name, version), files in sorted(found.items())]


def load_policy(path: Path) -> Policy:
    """The policy file's ``[accepted]`` and ``[held-back]`` tables (an absent file is an empty policy)."""
    if not path.exists():
        return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AuditError(f"cannot read the policy file {path}: {error}") from None
    tables = {}
    for key in ("accepted", "held-back"):
        table = data.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, str) and v.strip() for v in table.values()):
            raise AuditError(f'{path.name}: [{key}] must hold lines of the form NAME = "reason"')
        tables[key] = dict(table)
    held_back = {canonicalize_name(name): reason for name, reason in tables["held-back"].items()}
    return Policy(accepted=tables["accepted"], held_back=held_back)


def fetch_project(index_url: str, name: str, timeout: float = 20.0, retries: int = 2) -> dict[str, Any] | None:
    """PyPI's JSON document of one project, or None when the index has no such project (404).

    Connection errors, timeouts, 429 and 5xx answers are retried ``retries`` times with a growing pause;
    after that, or on any other answer, AuditError.
    """
    url = f"{index_url.rstrip('/')}/{name}/json"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    reason = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(0.5 * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            reason = f"HTTP {error.code} {error.reason}"
            if error.code != 429 and error.code < 500:
                break
        except urllib.error.URLError as error:
            reason = str(error.reason)
        except (TimeoutError, ConnectionError) as error:
            reason = str(error) or type(error).__name__
        except ValueError as error:  # not JSON: a captive portal or a broken proxy
            reason = f"the answer is not JSON ({error})"
            break
    raise AuditError(f"cannot reach the package index at {index_url} ({name}: {reason})")


def fetch_all(
    index_url: str, names: list[str], workers: int = 16, timeout: float = 20.0, retries: int = 2
) -> dict[str, dict[str, Any] | None]:
    """The JSON document of every project, fetched concurrently; the first failure stops the rest."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(fetch_project, index_url, name, timeout, retries): name for name in names}
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [future for future in done if future.exception() is not None]
        if failed:
            pool.shutdown(cancel_futures=True)
            raise failed[0].exception()
        return {futures[future]: future.result() for future in futures}


def first_line(text: object) -> str:
    """The first non-blank line of a text ("" for none)."""
    return next((line.strip() for line in str(text or "").splitlines() if line.strip()), "")


def parse_vulnerabilities(document: dict[str, Any]) -> list[Vulnerability]:
    """The advisories PyPI lists for the latest release (withdrawn ones left out)."""
    found = []
    for entry in document.get("vulnerabilities") or []:
        if entry.get("withdrawn"):
            continue
        found.append(
            Vulnerability(
                id=str(entry.get("id", "?")),
                aliases=tuple(entry.get("aliases") or ()),
                fixed_in=tuple(entry.get("fixed_in") or ()),
                link=str(entry.get("link") or ""),
                summary=first_line(entry.get("summary") or entry.get("details")),
            )
        )
    return found


def same_version(left: str, right: str) -> bool:
    """Whether two version strings name the same release (``1.0`` and ``1.0.0`` do)."""
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right


def find_release(document: dict[str, Any], version: str) -> list[dict[str, Any]] | None:
    """The files of the pinned release in ``releases``, or None when PyPI has no such release."""
    releases = document.get("releases") or {}
    if version in releases:
        return releases[version]
    for key, files in releases.items():
        if same_version(key, version):
            return files
    return None


def classify(pin: Pin, document: dict[str, Any] | None, policy: Policy) -> Verdict:
    """Classify one pin from its project's JSON document (None: the index has no such project)."""
    verdict = Verdict(pin.name, pin.version, pin.files, "clean", held_back=policy.held_back.get(pin.name))
    if document is None:
        verdict.status = "missing"
        return verdict
    verdict.latest = str((document.get("info") or {}).get("version") or "") or None
    release = find_release(document, pin.version)
    statuses = []
    if release is None:
        statuses.append("missing")
    else:
        yanked = [f for f in release if f.get("yanked")]
        if yanked:
            statuses.append("yanked")
            verdict.yanked_reason = next(
                (f["yanked_reason"] for f in yanked if f.get("yanked_reason")), "no reason given"
            )
    if verdict.latest and same_version(pin.version, verdict.latest):
        verdict.vulnerabilities = parse_vulnerabilities(document)
        for vulnerability in verdict.vulnerabilities:
            reasons = [policy.accepted[i] for i in sorted(vulnerability.ids()) if i in policy.accepted]
            if reasons:
                verdict.accepted[vulnerability.id] = reasons[0]
        if len(verdict.accepted) < len(verdict.vulnerabilities):
            statuses.append("vulnerable")
        elif verdict.vulnerabilities:
            statuses.append("accepted")
    else:
        statuses.append("behind")
    verdict.status = min(statuses, key=PRIORITY.index) if statuses else "clean"
    return verdict


def audit(
    files: list[Path],
    policy: Policy,
    index_url: str = DEFAULT_INDEX_URL,
    workers: int = 16,
    timeout: float = 20.0,
    retries: int = 2,
) -> Report:
    """Read the pins of ``files``, fetch their projects from ``index_url`` and classify every pin."""
    started = time.perf_counter()
    pins = read_pins(files)
    documents = fetch_all(index_url, sorted({pin.name for pin in pins}), workers, timeout, retries)
    verdicts = [classify(pin, documents[pin.name], policy) for pin in pins]
    return Report(index_url, [path.name for path in files], verdicts, time.perf_counter() - started)


def describe(verdict: Verdict) -> str:
    """One line of detail for the table: advisories, yank reason or why the pin is held back."""
    parts = []
    if verdict.status == "missing":
        parts.append("no such project or release on the index")
    if verdict.yanked_reason:
        parts.append(f"yanked: {verdict.yanked_reason}")
    for vulnerability in verdict.vulnerabilities:
        aliases = f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else ""
        fixed = f" fixed in {', '.join(vulnerability.fixed_in)}" if vulnerability.fixed_in else " no fix"
        accepted = f" ACCEPTED: {verdict.accepted[vulnerability.id]}" if vulnerability.id in verdict.accepted else ""
        parts.append(f"{vulnerability.id}{aliases}{fixed} {vulnerability.link}{accepted}".strip())
    if verdict.status == "behind":
        parts.append(f"held back: {verdict.held_back}" if verdict.held_back else "no reason recorded")
    return "; ".join(parts)


def format_report(report: Report, show_all: bool = False) -> str:
    """The table of pins that are not clean (all pins with ``show_all``), the counts and the elapsed time."""
    rows = [v for v in report.verdicts if show_all or v.status != "clean"]
    rows.sort(key=lambda v: (PRIORITY.index(v.status), v.name))
    lines = []
    if rows:
        width = max(len(v.name) for v in rows)
        version_width = max(len(v.version) for v in rows)
        latest_width = max(len(v.latest or "-") for v in rows)
        header = (
            f"{'package':<{width}}  {'pinned':<{version_width}}  {'latest':<{latest_width}}  {'status':<10}  detail"
        )
        lines += [header, "-" * len(header)]
        for v in rows:
            lines.append(
                f"{v.name:<{width}}  {v.version:<{version_width}}  {v.latest or '-':<{latest_width}}  "
                f"{v.status:<10}  {describe(v)}"
            )
        lines.append("")
    counts = report.counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s] or s != "missing")
    lines.append(f"{len(report.verdicts)} pins from {', '.join(report.files)}: {summary}")
    lines.append(f"index {report.index_url}, {report.elapsed_s:.1f} s")
    if counts["behind"]:
        lines.append(
            "behind: PyPI's JSON API lists advisories for a project's latest release only; the CI job `audit` "
            "(pip-audit) checks these pins"
        )
    return "\n".join(lines)


def report_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dictionary."""
    return {
        "index_url": report.index_url,
        "files": report.files,
        "elapsed_s": round(report.elapsed_s, 2),
        "counts": report.counts(),
        "exit_code": report.exit_code(),
        "pins": [asdict(v) for v in report.verdicts],
    }


def ignore_vuln_args(policy: Policy) -> str:
    """The accepted ids as pip-audit options (``--ignore-vuln ID`` each), for the CI job."""
    return " ".join(f"--ignore-vuln {advisory}" for advisory in sorted(policy.accepted))


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Audit the pinned requirements through PyPI's JSON API: known vulnerabilities of pins that "
        "are the latest release, yanked releases, pins behind their latest release.",
    )
    parser.add_argument(
        "--requirements",
        action="append",
        type=Path,
        metavar="FILE",
        help=f"a requirements file (repeatable; default: {', '.join(REQUIREMENT_FILES)} at the repository root)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=ROOT / POLICY_FILE,
        help=f"accepted findings and held-back reasons ({POLICY_FILE})",
    )
    parser.add_argument("--index-url", default=DEFAULT_INDEX_URL, help="base of the JSON API (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=16, help="concurrent requests (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request (default: %(default)s)")
    parser.add_argument("--retries", type=int, default=2, help="retries of a failed request (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.add_argument("--all", action="store_true", help="list clean pins in the table too")
    parser.add_argument(
        "--ignore-vuln-args",
        action="store_true",
        help="print the accepted ids as pip-audit's --ignore-vuln options and exit (no network)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the audit; 0 nothing to act on, 1 an unaccepted finding, 2 the audit could not run."""
    args = build_parser().parse_args(argv)
    files = args.requirements or [ROOT / name for name in REQUIREMENT_FILES]
    try:
        policy = load_policy(args.policy)
        if args.ignore_vuln_args:
            print(ignore_vuln_args(policy))
            return 0
        report = audit(files, policy, args.index_url, args.workers, args.timeout, args.retries)
    except AuditError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report_json(report), indent=2) if args.json else format_report(report, args.all))
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
