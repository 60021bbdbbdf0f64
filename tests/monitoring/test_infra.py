"""The Azure alert rule shipped as code (ARM template) parses and agrees with the service's own rule."""

from __future__ import annotations

import json
import re

from core.config import PROJECT_ROOT
from core.monitoring.settings import AlertConfig
from core.monitoring.telemetry import MISCLASSIFIED_EVENT

TEMPLATE = PROJECT_ROOT / "infra" / "monitoring-alerts.json"
QUERY = PROJECT_ROOT / "infra" / "misclassified-tweets.kql"


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_alert_template_parses_and_matches_the_service_rule() -> None:
    template = json.loads(TEMPLATE.read_text())
    assert template["$schema"].endswith("deploymentTemplate.json#")
    resources = {r["type"]: r for r in template["resources"]}
    assert set(resources) == {"Microsoft.Insights/actionGroups", "Microsoft.Insights/scheduledQueryRules"}

    group = resources["Microsoft.Insights/actionGroups"]["properties"]
    assert len(group["groupShortName"]) <= 12 and group["emailReceivers"] and group["smsReceivers"]

    rule = resources["Microsoft.Insights/scheduledQueryRules"]
    props = rule["properties"]
    (criterion,) = props["criteria"]["allOf"]
    assert criterion["operator"] == "GreaterThanOrEqual" and criterion["timeAggregation"] == "Count"
    params = template["parameters"]
    defaults = AlertConfig()
    assert params["minErrors"]["defaultValue"] == defaults.min_errors  # same N, T and cool-down as the service
    assert params["windowMinutes"]["defaultValue"] == defaults.window_minutes
    assert params["cooldownMinutes"]["defaultValue"] == defaults.cooldown_minutes
    assert criterion["threshold"] == "[parameters('minErrors')]"
    assert props["windowSize"] == props["evaluationFrequency"] == "[format('PT{0}M', parameters('windowMinutes'))]"
    assert props["autoMitigate"] is False and "cooldownMinutes" in props["muteActionsDuration"]
    group_id = "[resourceId('Microsoft.Insights/actionGroups', variables('actionGroupName'))]"
    assert props["actions"]["actionGroups"] == [group_id] and rule["dependsOn"] == [group_id]

    # The query is the .kql file, filters on the event the API sends, and reads the dimensions it sets.
    query = template["variables"]["query"]
    assert query == QUERY.read_text() and criterion["query"] == "[variables('query')]"
    assert f'name == "{MISCLASSIFIED_EVENT}"' in query
    for dimension in ("text", "predicted_label", "correct_label", "probability_negative", "model_version"):
        assert f"customDimensions.{dimension}" in query

    # Every template expression is closed and names only declared parameters and variables.
    for text in _strings(template):
        if text.startswith("[") and not text.startswith("[["):
            assert text.endswith("]") and text.count("(") == text.count(")"), text
            assert set(re.findall(r"parameters\('(\w+)'\)", text)) <= set(params), text
            assert set(re.findall(r"variables\('(\w+)'\)", text)) <= set(template["variables"]), text
