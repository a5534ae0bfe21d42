"""An empty subscription, a reused system topic, networking that keeps events flowing, and an operable ledger."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.infra.conftest import INFRA, REPO, body

FLEX_REGIONS_SAMPLE = ("eastus", "westeurope", "swedencentral", "australiaeast")


def resources_of(parsed, resource_type):
    return [r for r in parsed.get("resources", {}).values() if r["type"] == resource_type and not r["existing"]]


# ---- an empty subscription ----------------------------------------------------------------------------------


def test_region_guard_allows_only_flex_consumption_regions(bicep):
    location = bicep["main.bicep"]["parameters"]["location"]
    allowed = next(d for d in location["decorators"] if d["type"] == "allowed")["argument"]
    for region in FLEX_REGIONS_SAMPLE:
        assert region in allowed
    assert "eastus2euap" not in allowed  # a canary region is not a place for an app
    assert len(allowed) == len(set(allowed)) >= 25


def test_role_names_are_unique_per_subscription_and_environment(bicep_text):
    text = bicep_text["app/role-definition.bicep"]
    assert "var suffix = '(${environmentName}, ${subscription().subscriptionId})'" in text
    for role in ("Operator", "Move Target", "Subscription Reader", "Inventory Reader"):
        assert f"'AML Lifecycle {role} ${{suffix}}'" in text, role
    assert text.count("name: guid(subscription().id, ") == 5


def test_role_definitions_never_name_a_resource_group_as_assignable_scope(bicep):
    """A group that does not exist yet (an empty subscription) or is dropped later must not break a definition."""
    parsed = bicep["app/role-definition.bicep"]
    definitions = resources_of(parsed, "Microsoft.Authorization/roleDefinitions")
    scopes = {body(d)["properties"]["assignableScopes"] for d in definitions}
    assert scopes == {"operatorSubscriptionIds", "targetSubscriptionIds", "watchedScopeIds", "purgeSubscriptionIds"}
    variables = json.dumps(bicep["main.bicep"]["variables"]["operatorSubscriptionList"])
    assert "/subscriptions/" in variables and "split" in variables


def test_subscription_scopes_need_an_explicit_switch(bicep):
    main = bicep["main.bicep"]
    assert main["parameters"]["allowSubscriptionScopes"]["default"] is False
    for name in ("operatorAssignments", "targetAssignments"):
        check = json.dumps(body(main["modules"][name])["params"]["scopeCheck"])
        assert "allowSubscriptionScopes" in check and "/resourcegroups/" in check, name
    decorators = bicep["app/role-assignment.bicep"]["parameters"]["scopeCheck"]["decorators"]
    assert {"type": "allowed", "argument": ["ok"]} in decorators


def test_azure_yaml_runs_the_scope_group_check_before_provisioning():
    text = (REPO / "azure.yaml").read_text(encoding="utf-8")
    assert "preprovision:" in text
    assert "./infra/hooks/preprovision.sh" in text and "./infra/hooks/preprovision.ps1" in text
    assert os.access(INFRA / "hooks" / "preprovision.sh", os.X_OK)


@pytest.fixture()
def fake_az(tmp_path):
    """`az` and `azd` stand-ins on PATH: azd prints the environment, az records its calls and answers `group exists`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "az.log"
    (bin_dir / "azd").write_text("#!/bin/sh\ncat \"$AZD_VALUES\"\n")
    (bin_dir / "az").write_text(
        "#!/bin/sh\necho \"$*\" >> \"$AZ_LOG\"\n"
        "case \"$*\" in *'group exists'*'--name rg-here'*) echo true ;; *'group exists'*) echo false ;; esac\n")
    for tool in ("azd", "az"):
        (bin_dir / tool).chmod(0o755)
    return bin_dir, log


def run_hook(fake_az, tmp_path, values: dict[str, str]):
    bin_dir, log = fake_az
    env_file = tmp_path / "values.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()))
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "AZD_VALUES": str(env_file), "AZ_LOG": str(log)}
    result = subprocess.run([str(INFRA / "hooks" / "preprovision.sh")], env=env, capture_output=True, text=True,
                            timeout=60)
    return result, (log.read_text() if log.exists() else "")


SUB = "11111111-1111-1111-1111-111111111111"
SCOPES = {
    "AZURE_ENV_NAME": "prod",
    "AZURE_LOCATION": "swedencentral",
    "AML_MANAGED_SCOPES": f'["/subscriptions/{SUB}/resourceGroups/rg-here",'
                          f'"/subscriptions/{SUB}/resourceGroups/rg-new"]',
    "AML_MOVE_TARGET_SCOPES": f'["/subscriptions/{SUB}/resourceGroups/rg-target", "/subscriptions/{SUB}"]',
}


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_preprovision_names_the_missing_scope_groups_and_stops(fake_az, tmp_path):
    result, calls = run_hook(fake_az, tmp_path, SCOPES)
    assert result.returncode == 1
    assert f"/subscriptions/{SUB}/resourceGroups/rg-new" in result.stderr
    assert f"/subscriptions/{SUB}/resourceGroups/rg-target" in result.stderr
    assert "rg-here" not in result.stderr  # it exists
    assert "AML_CREATE_SCOPE_GROUPS" in result.stderr
    assert "group create" not in calls
    assert f"--subscription {SUB}" in calls  # each scope checked in its own subscription


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_preprovision_creates_only_the_missing_groups_when_asked(fake_az, tmp_path):
    result, calls = run_hook(fake_az, tmp_path, {**SCOPES, "AML_CREATE_SCOPE_GROUPS": "true"})
    assert result.returncode == 0, result.stderr
    created = [line for line in calls.splitlines() if line.startswith("group create")]
    assert len(created) == 2
    assert all(f"--subscription {SUB}" in c and "--location swedencentral" in c for c in created)
    assert any("--name rg-new" in c for c in created) and any("--name rg-target" in c for c in created)
    assert not any("--name rg-here" in c for c in created)  # an existing group is never touched


def test_postdeploy_runs_az_against_azds_subscription_shows_errors_and_retries():
    text = (INFRA / "hooks" / "postdeploy.sh").read_text(encoding="utf-8")
    for line in (l for l in text.splitlines() if re.match(r"\s*(until )?az ", l)):
        assert "--subscription" in text[text.index(line):text.index(line) + 200], line
    assert "--query name --output tsv >/dev/null 2>\"$errors\"" in text  # az's errors are kept, then shown
    assert 'sed \'s/^/  /\' "$errors"' in text
    assert "until azd provision --no-prompt" in text and "sleep 120" in text
    ps1 = (INFRA / "hooks" / "postdeploy.ps1").read_text(encoding="utf-8")
    assert "--subscription $env:AZURE_SUBSCRIPTION_ID" in ps1 and "2>$null" not in ps1


# ---- an existing system topic -------------------------------------------------------------------------------


def test_an_existing_system_topic_is_reused_by_parameter(bicep):
    main = bicep["main.bicep"]
    assert main["parameters"]["existingSystemTopicIds"]["type"] == "array"
    assert "existingSystemTopicIds" in json.dumps(main["variables"]["existingTopicsText"])
    assert main["variables"]["watchedTopicIds"]["value"]["loop_type"]["detail"]["array_name"] == "watched"
    events = body(main["modules"]["subscriptionEvents"])["params"]
    assert "watchedTopicIds" in json.dumps(events["existingSystemTopicId"])
    for name in ("eventSubscriptions", "deadLetterAlerts", "systemTopicMonitoring"):
        assert "watchedTopicIds" in json.dumps(body(main["modules"][name])["scope"]), name
    parsed = bicep["app/subscription-events.bicep"]
    assert parsed["resources"]["eventsGroup"]["config"]["condition"] == {
        "operator": {"type": "not", "operands": {"bool_value": "reuse"}}}
    assert parsed["modules"]["systemTopic"]["config"]["condition"] == {
        "operator": {"type": "not", "operands": {"bool_value": "reuse"}}}
    existing = parsed["resources"]["existingTopic"]
    assert existing["existing"] and existing["config"]["condition"] == "reuse"
    assert "existingTopic" in json.dumps(parsed["outputs"]["systemTopicPrincipalId"])


# ---- networking ---------------------------------------------------------------------------------------------


def test_the_function_endpoint_stays_public_for_event_grid(bicep):
    app = body(resources_of(bicep["app/function-app.bicep"], "Microsoft.Web/sites")[0])["properties"]
    assert app["publicNetworkAccess"] == "Enabled"
    rule = bicep["app/function-app.bicep"]["variables"]["eventGridRule"]["value"][0]
    assert rule["tag"] == "ServiceTag" and rule["ipAddress"] == "AzureEventGrid" and rule["action"] == "Allow"
    site = app["siteConfig"]
    assert "restrictInbound" in json.dumps(site["ipSecurityRestrictions"])
    assert site["scmIpSecurityRestrictionsUseMain"] is False


def test_vnet_puts_storage_and_the_alerts_topic_behind_private_endpoints(bicep):
    network = bicep["app/network.bicep"]
    endpoints = resources_of(network, "Microsoft.Network/privateEndpoints")
    groups = json.dumps([body(e)["properties"]["privateLinkServiceConnections"] for e in endpoints])
    assert "storageAccountId" in groups and "alertsTopicId" in groups and "'topic'" not in groups
    assert network["variables"]["storageServices"]["value"] == ["blob", "queue", "table"]
    vnet = body(resources_of(network, "Microsoft.Network/virtualNetworks")[0])["properties"]
    delegation = vnet["subnets"][0]["properties"]["delegations"][0]["properties"]["serviceName"]
    assert delegation == "Microsoft.App/environments"  # Flex Consumption VNet integration
    main = bicep["main.bicep"]
    assert main["modules"]["network"]["config"]["condition"] == "vnetEnabled"
    storage = body(resources_of(bicep["app/storage.bicep"], "Microsoft.Storage/storageAccounts")[0])["properties"]
    assert storage["networkAcls"]["bypass"] == "AzureServices"  # Event Grid's identity writes dead letters
    assert storage["publicNetworkAccess"] == "Enabled"  # trusted services pass only while it is Enabled
    assert "vnetEnabled" in json.dumps(storage["networkAcls"]["defaultAction"])
    topic = body(resources_of(bicep["app/alerts-topic.bicep"], "Microsoft.EventGrid/topics")[0])["properties"]
    assert "vnetEnabled" in json.dumps(topic["publicNetworkAccess"])


def test_the_wrong_private_endpoint_advice_is_gone():
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "Event Grid delivery to an `AzureFunction` endpoint keeps working" not in text
    assert "AzureEventGrid" in text and "vnetEnabled" in text


# ---- operable -----------------------------------------------------------------------------------------------


def test_diagnostic_settings_reach_log_analytics(bicep):
    function_app = resources_of(bicep["app/function-app.bicep"], "Microsoft.Insights/diagnosticSettings")
    assert body(function_app[0])["properties"]["logs"][0]["category"] == "FunctionAppLogs"
    topic = resources_of(bicep["app/system-topic-monitoring.bicep"], "Microsoft.Insights/diagnosticSettings")
    assert body(topic[0])["properties"]["logs"][0]["category"] == "DeliveryFailures"
    storage = resources_of(bicep["app/storage.bicep"], "Microsoft.Insights/diagnosticSettings")
    assert {body(s)["scope"] for s in storage} == {"tableService", "blobService", "storage"}
    for name in ("api", "storage", "systemTopicMonitoring"):
        wired = json.dumps(body(bicep["main.bicep"]["modules"][name])["params"]["logAnalyticsId"])
        assert '"monitoring"' in wired and '"logAnalyticsId"' in wired, name


def test_delivery_failures_raise_an_alert_before_the_dead_letters(bicep):
    alert = body(resources_of(bicep["app/system-topic-monitoring.bicep"], "Microsoft.Insights/metricAlerts")[0])
    criterion = alert["properties"]["criteria"]["allOf"][0]
    assert criterion["metricName"] == "DeliveryAttemptFailCount"
    assert criterion["metricNamespace"] == "Microsoft.EventGrid/systemTopics"
    assert alert["properties"]["actions"][0]["actionGroupId"] == "actionGroupId"
    loop = bicep["main.bicep"]["modules"]["systemTopicMonitoring"]["config"]["loop_type"]["detail"]["array_name"]
    assert loop == "watched"


def test_the_ledger_account_is_locked_and_zone_redundant_where_offered(bicep):
    parsed = bicep["app/storage.bicep"]
    lock = parsed["resources"]["ledgerLock"]
    assert lock["type"] == "Microsoft.Authorization/locks"
    assert body(lock)["properties"]["level"] == "CanNotDelete" and body(lock)["scope"] == "storage"
    main = bicep["main.bicep"]
    assert main["parameters"]["protectLedger"]["default"] is True
    assert "Standard_ZRS" in json.dumps(main["variables"]["ledgerSku"]) and "zoneRegions" in json.dumps(
        main["variables"]["ledgerSku"])
    zones = main["variables"]["zoneRegions"]["value"]
    assert "swedencentral" in zones and "westus" not in zones  # westus has no availability zones
    assert body(main["modules"]["storage"])["params"]["skuName"] == "ledgerSku"


def test_app_settings_are_merged_not_replaced(bicep, bicep_text):
    settings = body(bicep["app/function-app.bicep"]["modules"]["settings"])["params"]
    assert "config/appsettings" in json.dumps(settings["currentAppSettings"])
    parsed = bicep["app/app-settings.bicep"]
    assert {"type": "secure"} in [{"type": d["type"]} for d in parsed["parameters"]["currentAppSettings"]["decorators"]]
    config = body(resources_of(parsed, "Microsoft.Web/sites/config")[0])
    assert config["properties"]["function"]["type"] == "union"
    assert list(config["properties"]["function"]["parameters"].values()) == ["currentAppSettings", "appSettings", "secretAppSettings"]


def test_ledger_export_and_restore_are_documented():
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "## Export and restore the ledger" in text
    for table in ("WorkspaceRetention", "WorkspaceMoves", "WorkspaceInventory", "RetentionSchedule"):
        assert table in text
