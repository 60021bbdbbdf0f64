"""The deployment's scale settings, as code: the CD workflow's ``az containerapp update`` sets the replica size,
the replica limits and an HTTP concurrency rule on every deployment, with the numbers docs/scaling.md derives."""

from __future__ import annotations

import math
import re
import shlex

import pytest
import yaml

from core.config import PROJECT_ROOT
from tests.delivery.stack_files import WORKFLOWS, dockerfile_cmd

DEPLOY_DOC = PROJECT_ROOT / "docs" / "deploy.md"
SCALING_DOC = PROJECT_ROOT / "docs" / "scaling.md"

PEAK_TWEETS_PER_S = 1_000
"""The bad-buzz peak the deployment must absorb (docs/scaling.md)."""
REPLICA_TWEETS_PER_S = 495
"""One replica of the BERT champion on ONNX int8, 2 cores, batches of 64 (docs/guide.md, measured)."""
TARGET_UTILISATION = 0.7


def deploy_command() -> list[str]:
    """The words of the CD workflow's ``az containerapp update`` command (continuation lines joined)."""
    cd = yaml.safe_load((WORKFLOWS / "cd.yml").read_text())
    steps = [s for s in cd["jobs"]["deploy"]["steps"] if s.get("name") == "Deploy to Azure Container Apps"]
    assert len(steps) == 1, "one deployment step expected"
    script = re.sub(r"\\\n\s*", " ", steps[0]["run"])
    commands = [line.strip() for line in script.splitlines() if line.strip().startswith("az containerapp update ")]
    assert len(commands) == 1, commands
    return shlex.split(commands[0])


def options(words: list[str]) -> dict[str, str]:
    """``--name value`` pairs of a command line (each option given once, each with a value)."""
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            assert word not in found, f"{word} given twice"
            assert i + 1 < len(words) and not words[i + 1].startswith("--"), f"{word} has no value"
            found[word] = words[i + 1]
    return found


@pytest.fixture(scope="module")
def deploy() -> dict[str, str]:
    return options(deploy_command())


def test_options_are_read_from_a_command_line() -> None:
    words = shlex.split('az containerapp update --name "$APP" --min-replicas 2 --output none')
    assert options(words) == {"--name": "$APP", "--min-replicas": "2", "--output": "none"}
    with pytest.raises(AssertionError, match="given twice"):
        options(["az", "--cpu", "1", "--cpu", "2"])


def test_each_replica_gets_2_vcpu_and_4_gib(deploy: dict[str, str]) -> None:
    assert float(deploy["--cpu"]) == 2.0
    assert deploy["--memory"] == "4Gi"  # the Consumption plan's pairing: 2 GiB per vCPU


def test_replica_limits_keep_two_up_and_cover_the_peak(deploy: dict[str, str]) -> None:
    low, high = int(deploy["--min-replicas"]), int(deploy["--max-replicas"])
    assert low == 2  # never scaled to zero (a cold start loads the model); one restarting never leaves none
    needed = math.ceil(PEAK_TWEETS_PER_S / (REPLICA_TWEETS_PER_S * TARGET_UTILISATION))
    assert needed == 3
    assert high == 6 and high >= 2 * needed  # room for a slower champion or longer tweets; a cost ceiling


def test_an_http_concurrency_rule_below_the_threads_of_a_replica(deploy: dict[str, str]) -> None:
    assert deploy["--scale-rule-type"] == "http"
    assert deploy["--scale-rule-name"] == "http-concurrency"
    concurrency = int(deploy["--scale-rule-http-concurrency"])
    cmd = dockerfile_cmd("api")
    workers, threads = int(cmd[cmd.index("--workers") + 1]), int(cmd[cmd.index("--threads") + 1])
    assert (workers, threads) == (1, 8)
    # Scale out before every gunicorn thread is busy: 5 of 8 is the 70% target (docs/scaling.md).
    assert concurrency == 5 and concurrency <= round(TARGET_UTILISATION * workers * threads)


def test_the_scaling_doc_shows_the_deployed_settings(deploy: dict[str, str]) -> None:
    doc = SCALING_DOC.read_text()
    first_api = DEPLOY_DOC.read_text().split("### 8. The API", 1)[1].split("###", 1)[0]  # the manual set-up
    for option in ("--cpu", "--memory", "--min-replicas", "--max-replicas", "--scale-rule-http-concurrency"):
        assert f"{option} {deploy[option]}" in doc, f"docs/scaling.md does not show {option} {deploy[option]}"
        assert f"{option} {deploy[option]}" in first_api, f"docs/deploy.md does not show {option} {deploy[option]}"
    for heading in ("## Parallel tuning", "## Batch scoring on Spark"):
        assert re.search(rf"^{re.escape(heading)}$", doc, flags=re.MULTILINE), heading
