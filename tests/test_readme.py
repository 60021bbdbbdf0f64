"""The README stays a newcomer's page: at most 250 lines, exactly two set-up commands (the main job
and the test suite), the test command the one `.ci/run` runs, and every local link resolving."""

from __future__ import annotations

import re

from core.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_the_readme_is_short_and_has_the_two_set_up_commands() -> None:
    assert len(README.splitlines()) <= 250
    set_up = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    main_job, tests = bash_blocks(set_up)
    assert (
        main_job
        == "python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt -e . && .venv/bin/air-paradise-stack"
    )
    assert tests.startswith("python3.11 -m venv .venv && ") and tests.endswith(" && .venv/bin/python -m pytest")
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    install_and_test = tests.removeprefix("python3.11 -m venv .venv && ")
    assert install_and_test.replace(" install -r", " install -q -r") in ci  # the same command, quieter


def test_every_local_link_of_the_readme_and_the_docs_resolves() -> None:
    for page in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_changelog_names_commits_of_the_history_and_the_package_version() -> None:
    import subprocess

    import core

    text = (PROJECT_ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## (\d+\.\d+\.\d+) — \d{4}-\d{2}-\d{2} — cut from `([0-9a-f]{7,40})`$", text, flags=re.M)
    assert len(releases) >= 3 and releases[0][0] == core.__version__  # the newest first, the package's version
    for version, commit in releases:
        found = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=PROJECT_ROOT, check=False)
        assert found.returncode == 0, f"release {version}: commit {commit} is not in the history"
