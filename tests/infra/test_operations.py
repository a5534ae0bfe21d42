"""Operating it (docs/operations.md): telemetry settings, the action group, alert rules and workbook in infra/."""

from __future__ import annotations

import json
import re

from tests.infra.conftest import INFRA, REPO, body
from tests.infra.test_bicep import only, resources_of

SOURCES = [*REPO.joinpath("shared").rglob("*.py"), *REPO.joinpath("handlers").rglob("*.py")]


def rules(bicep) -> dict[str, dict]:
    parsed = bicep["app/operations.bicep"]
    return {r["config"]["name"]: body(r)["properties"] for r in resources_of(parsed, "Microsoft.Insights/scheduledQueryRules")}


def query_of(bicep, rule: dict) -> str:
    return bicep["app/operations.bicep"]["variables"][rule["criteria"]["allOf"][0]["query"]]["value"]


def acts_through_the_action_group(rule: dict) -> bool:
    return "actionGroup" in json.dumps(rule["actions"])


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---- telemetry settings --------------------------------------------------------------------------------------


def test_host_json_uses_opentelemetry_and_keeps_successful_runs():
    host = json.loads((REPO / "host.json").read_text())
    assert host["telemetryMode"] == "OpenTelemetry"
    assert "Host.Results" not in host["logging"]["logLevel"]  # no override hiding successful requests


def test_function_app_streams_worker_telemetry_with_entra_ingestion(bicep):
    settings = bicep["app/function-app.bicep"]["variables"]["hostSettings"]["value"]
    assert settings["PYTHON_ENABLE_OPENTELEMETRY"] == "true"
    assert "Authorization=AAD" in settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in settings


def test_telemetry_packages_are_pinned():
    pins = dict(line.split("==") for line in (REPO / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    for package in ("azure-monitor-opentelemetry", "azure-core-tracing-opentelemetry", "opentelemetry-api"):
        assert re.fullmatch(r"\d+\.\d+\.\d+(b\d+)?", pins[package]), package


# ---- action group and alert rules ----------------------------------------------------------------------------


def test_main_deploys_operations_with_an_email_parameter(bicep):
    main = bicep["main.bicep"]
    assert main["parameters"]["alertEmail"]["default"] == ""
    assert main["parameters"]["actionGroupName"]["default"] == ""  # overridable like every name
    operations = main["modules"]["operations"]
    assert operations["detail"]["path"] == "app/operations.bicep"
    params = body(operations)["params"]
    assert params["alertEmail"] == "alertEmail" and params["sweepIntervalMinutes"] == "sweepIntervalMinutes"
    assert "applicationInsightsId" in json.dumps(params["applicationInsightsId"])


def test_action_group_emails_the_parameter_only_when_given(bicep):
    group = body(only(resources_of(bicep["app/operations.bicep"], "Microsoft.Insights/actionGroups")))
    receivers = group["properties"]["emailReceivers"]["operator"]["operands"]
    assert receivers["true_value"] == []
    [receiver] = receivers["false_value"]
    assert receiver["emailAddress"] == "alertEmail" and receiver["useCommonAlertSchema"] is True
    assert len(group["properties"]["groupShortName"]) <= 12  # Azure's limit for the short name


def test_function_failures_alert_reads_requests_and_exceptions(bicep):
    rule = rules(bicep)["aml-lifecycle-function-failures"]
    query = query_of(bicep, rule)
    assert "requests | where success == false" in query and "exceptions" in query
    condition = rule["criteria"]["allOf"][0]
    assert (condition["operator"], condition["threshold"]) == ("GreaterThan", 0)
    assert rule["scopes"] == ["applicationInsightsId"] and acts_through_the_action_group(rule)


def test_sweep_heartbeat_alert_fires_after_twice_the_schedule(bicep):
    rule = rules(bicep)["aml-lifecycle-sweep-stopped"]
    assert '"sweep.finished"' in query_of(bicep, rule)
    condition = rule["criteria"]["allOf"][0]
    assert (condition["timeAggregation"], condition["operator"], condition["threshold"]) == ("Count", "LessThan", 1)
    assert rule["windowSize"] == "PT${2 * sweepIntervalMinutes}M" and acts_through_the_action_group(rule)
    main = bicep["main.bicep"]["parameters"]
    assert main["sweepSchedule"]["default"] == "0 0 * * * *" and main["sweepIntervalMinutes"]["default"] == 60


def test_move_alert_fires_per_move_on_needs_attention_or_failed(bicep):
    rule = rules(bicep)["aml-lifecycle-move-needs-attention"]
    query = query_of(bicep, rule)
    assert '"move.finished"' in query and '("NeedsAttention", "Failed")' in query
    assert [d["name"] for d in rule["criteria"]["allOf"][0]["dimensions"]] == ["moveId", "state"]
    assert acts_through_the_action_group(rule)


def test_dead_letter_metric_alert_beside_each_system_topic(bicep):
    alert = body(only(resources_of(bicep["app/deadletter-alert.bicep"], "Microsoft.Insights/metricAlerts")))
    [criterion] = alert["properties"]["criteria"]["allOf"]
    assert (criterion["metricNamespace"], criterion["metricName"]) == ("Microsoft.EventGrid/systemTopics",
                                                                       "DeadLetteredCount")
    assert (criterion["timeAggregation"], criterion["operator"], criterion["threshold"]) == ("Total", "GreaterThan", 0)
    assert "actionGroupId" in json.dumps(alert["properties"]["actions"])
    module = bicep["main.bicep"]["modules"]["deadLetterAlerts"]
    assert module["detail"]["path"] == "app/deadletter-alert.bicep"
    assert "watched" in json.dumps(module["config"])  # one per watched subscription
    assert "subscriptionEvents" in json.dumps(body(module)["params"]["systemTopicName"])


# ---- workbook -----------------------------------------------------------------------------------------------


def test_workbook_has_the_four_tiles_over_the_component(bicep):
    parsed = bicep["app/operations.bicep"]
    workbook = body(only(resources_of(parsed, "Microsoft.Insights/workbooks")))
    assert workbook["kind"] == "shared" and workbook["properties"]["sourceId"] == "applicationInsightsId"
    items = parsed["variables"]["workbookItems"]["value"]
    tiles = {i["content"]["title"]: parsed["variables"][i["content"]["query"]]["value"]
             for i in items if i["type"] == 3}
    assert set(tiles) == {"Soft-deleted workspaces and days left before purge", "Alerts sent",
                          "Moves: state and steps", "Failures by function"}
    assert "daysLeft" in tiles["Soft-deleted workspaces and days left before purge"]
    assert "alertId" in tiles["Alerts sent"] and "steps" in tiles["Moves: state and steps"]


# ---- queries, code and runbook agree ------------------------------------------------------------------------


def test_every_kind_a_query_selects_is_logged_by_the_app(bicep_text):
    text = bicep_text["app/operations.bicep"]
    selected = set(re.findall(r'"((?:ledger|move|alert|sweep|event)\.[a-z]+)"', text))
    code = "\n".join(path.read_text() for path in SOURCES)
    assert selected >= {"sweep.finished", "move.finished", "ledger.transition", "move.state", "move.step",
                        "alert.published"}
    for kind in selected:
        assert f'"{kind}"' in code, f"{kind} is queried but never logged"


def test_runbook_holds_every_query_and_every_alert(bicep):
    runbook = squash((REPO / "docs" / "operations.md").read_text())
    parsed = bicep["app/operations.bicep"]
    for name, variable in parsed["variables"].items():
        if isinstance(variable["value"], str) and variable["value"].lstrip().startswith(("traces", "union")):
            assert squash(variable["value"]) in runbook, f"docs/operations.md lacks the query {name}"
    for anchor in ("## Alerts", "### Function failures", "### Events dead-lettered", "### Retention sweep not running",
                   "### Move needs attention or failed", "## Replaying dead-lettered events", "## Workbook",
                   "## Reading the tables"):
        assert anchor in runbook
    assert (INFRA / "app" / "operations.bicep").is_file()
