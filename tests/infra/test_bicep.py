"""Offline checks of infra/: every Bicep file parses (pycep) and keeps the identity-first, least-privilege shape."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from tests.infra.conftest import BICEP_FILES, INFRA, REPO, body, walk

ROLE_GUIDS = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "76199698-9eea-4c19-bc75-cec21354c6b6": "Storage Table Data Reader",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "f1a07417-d97a-45cb-824c-7a7467783830": "Managed Identity Operator",
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ACTION = re.compile(r"^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+/(read|write|delete|action)$")
SECRET_WORDS = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CONNECTION_?STRING|SAS", re.IGNORECASE)
SECRET_FUNCTIONS = (
    "listKeys",
    "listSecrets",
    "listConnectionStrings",
    "listAccountSas",
    "listServiceSas",
    "listCredentials",
)

# Flex Consumption rejects or ignores these; the runtime comes from functionAppConfig instead.
FLEX_UNSUPPORTED_SETTINGS = (
    "FUNCTIONS_WORKER_RUNTIME",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_RUN_FROM_PACKAGE",
)

# The Functions host needs this setting by name; it holds no credential (an instrumentation key is an
# identifier, and with DisableLocalAuth the resource accepts only Entra-authenticated telemetry).
ALLOWED_SECRET_LOOKING_SETTINGS = {"APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"}


def resources_of(parsed: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in parsed.get("resources", {}).values() if r["type"] == resource_type and not r["existing"]]


def only(items: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(items) == 1, items
    return items[0]


def role_actions(parsed: dict[str, Any]) -> set[str]:
    """Every action string defined in the custom-role module (variables and inline lists)."""
    return {v for v in walk(parsed) if isinstance(v, str) and ACTION.match(v)}


# ---- parsing ----------------------------------------------------------------------------------------


def test_infra_has_the_expected_modules():
    names = {p.relative_to(INFRA).as_posix() for p in BICEP_FILES}
    for expected in (
        "main.bicep",
        "app/function-app.bicep",
        "app/storage.bicep",
        "app/monitoring.bicep",
        "app/alerts-topic.bicep",
        "app/rbac.bicep",
        "app/role-definition.bicep",
        "app/subscription-events.bicep",
        "app/system-topic.bicep",
        "app/event-subscription.bicep",
    ):
        assert expected in names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_bicep_file_parses(path):
    from pycep import BicepParser

    parsed = BicepParser().parse(text=path.read_text(encoding="utf-8"))
    assert parsed.get("resources") or parsed.get("modules"), f"{path} declares nothing"


def test_modules_referenced_by_main_exist(bicep):
    for rel, parsed in bicep.items():
        base = (INFRA / rel).parent
        for module in parsed.get("modules", {}).values():
            assert module["type"] == "local", f"{rel}: registry modules cannot be scanned offline"
            assert (base / module["detail"]["path"]).is_file(), module["detail"]["path"]


def test_main_is_subscription_scoped_with_uppercase_outputs(bicep):
    main = bicep["main.bicep"]
    assert main["globals"]["scope"]["value"] == "subscription"
    assert main["outputs"]
    for name in main["outputs"]:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name


def test_every_resource_name_is_overridable(bicep):
    params = bicep["main.bicep"]["parameters"]
    for name in (
        "resourceGroupName",
        "functionAppName",
        "appServicePlanName",
        "storageAccountName",
        "userAssignedIdentityName",
        "logAnalyticsName",
        "applicationInsightsName",
        "alertsTopicName",
        "eventsResourceGroupName",
        "systemTopicName",
    ):
        assert params[name]["default"] == "", name


def test_default_names_use_abbreviation_and_token(bicep_text):
    text = bicep_text["main.bicep"]
    assert "loadJsonContent('abbreviations.json')" in text
    assert "uniqueString(subscription().id, environmentName, location)" in text
    abbreviations = json.loads((INFRA / "abbreviations.json").read_text())
    for key in re.findall(r"abbrs\.(\w+)", text):
        assert key in abbreviations, key


# ---- function app: identity-first ------------------------------------------------------------------


def test_function_app_runs_as_user_assigned_identity(bicep):
    app = body(only(resources_of(bicep["app/function-app.bicep"], "Microsoft.Web/sites")))
    assert app["identity"]["type"] == "UserAssigned"
    assert app["identity"]["userAssignedIdentities"]
    props = app["properties"]
    assert props["httpsOnly"] is True
    storage = props["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"]["type"] == "UserAssignedIdentity"
    assert props["functionAppConfig"]["runtime"]["name"] == "python"
    assert bicep["app/function-app.bicep"]["parameters"]["runtimeVersion"]["default"] == "3.11"
    assert props["siteConfig"]["minTlsVersion"] == "1.2"
    # Flex Consumption deprecates these site properties (functions-app-settings.md#flex-consumption-plan-deprecations)
    for deprecated in ("ftpsState", "alwaysOn", "linuxFxVersion", "use32BitWorkerProcess", "functionAppScaleLimit"):
        assert deprecated not in props["siteConfig"] and deprecated not in props, deprecated


def test_flex_consumption_plan(bicep):
    plan = body(only(resources_of(bicep["app/function-app.bicep"], "Microsoft.Web/serverfarms")))
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}


def test_basic_publishing_credentials_are_off(bicep):
    policies = resources_of(bicep["app/function-app.bicep"], "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {body(p)["name"] for p in policies} == {"ftp", "scm"}
    assert all(body(p)["properties"]["allow"] is False for p in policies)


def test_host_storage_uses_managed_identity(bicep):
    settings = bicep["app/function-app.bicep"]["variables"]["hostSettings"]["value"]
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    # service URIs from the account (sovereign clouds too), not __accountName (public-cloud host names only)
    assert "AzureWebJobsStorage__accountName" not in settings
    assert settings["AzureWebJobsStorage__blobServiceUri"] == "storageBlobEndpoint"
    assert settings["AzureWebJobsStorage__queueServiceUri"] == "storageQueueEndpoint"
    assert settings["AzureWebJobsStorage__tableServiceUri"] == "storageTableEndpoint"
    params = body(bicep["main.bicep"]["modules"]["api"])["params"]
    for service in ("Blob", "Queue", "Table"):
        assert f"{service.lower()}Endpoint" in json.dumps(params[f"storage{service}Endpoint"]), service
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert "Authorization=AAD" in settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert "AzureWebJobsStorage" not in settings  # a connection string would carry a key


def test_app_settings_cover_design_section_3(bicep):
    settings = bicep["main.bicep"]["variables"]["lifecycleSettings"]["value"]
    for name in (
        "AML_LIFECYCLE_TABLES",
        "AML_LIFECYCLE_ARM_ENDPOINT",
        "AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT",
        "AML_LIFECYCLE_ALLOWED_TARGETS",
        "AML_LIFECYCLE_ALERT_DAYS",
        "AML_LIFECYCLE_DEFAULT_RETENTION_DAYS",
        "AML_LIFECYCLE_SWEEP_SCHEDULE",
        "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS",
    ):
        assert name in settings, name
    # identity, never a key or a static token, in Azure
    for forbidden in ("AML_LIFECYCLE_ALERTS_TOPIC_KEY", "AML_LIFECYCLE_LOCAL_TOKEN", "AML_LIFECYCLE_ARM_CA_BUNDLE"):
        assert forbidden not in settings
    digest = bicep["main.bicep"]["variables"]["digestSettings"]["value"]
    assert "AML_LIFECYCLE_DIGEST_HOUR_UTC" in json.dumps(digest)


def test_no_flex_unsupported_settings(bicep_text):
    for rel, text in bicep_text.items():
        for name in FLEX_UNSUPPORTED_SETTINGS:
            assert name not in text, f"{rel} sets {name}, which Flex Consumption does not take"


# ---- no secrets anywhere ---------------------------------------------------------------------------


def test_no_secret_functions_anywhere(bicep_text):
    for rel, text in bicep_text.items():
        for function in SECRET_FUNCTIONS:
            assert f"{function}(" not in text and f".{function}" not in text, f"{rel} calls {function}"
        assert "AccountKey=" not in text and "SharedAccessKey" not in text, rel


def test_no_secret_outputs(bicep):
    for rel, parsed in bicep.items():
        for name, output in parsed.get("outputs", {}).items():
            assert not SECRET_WORDS.search(name), f"{rel}: output {name}"
            assert "@secure" not in json.dumps(output["decorators"])
            assert "ConnectionString" not in json.dumps(output["value"]), f"{rel}: output {name}"


def test_no_secret_app_settings(bicep):
    names = set(bicep["main.bicep"]["variables"]["lifecycleSettings"]["value"])
    names |= set(bicep["main.bicep"]["variables"]["digestSettings"]["value"] or {})
    names |= set(bicep["app/function-app.bicep"]["variables"]["hostSettings"]["value"])
    for name in names - ALLOWED_SECRET_LOOKING_SETTINGS:
        assert not SECRET_WORDS.search(name), name


# ---- storage -------------------------------------------------------------------------------------------


def test_storage_disables_shared_keys_and_public_blobs(bicep):
    parsed = bicep["app/storage.bicep"]
    account = body(only(resources_of(parsed, "Microsoft.Storage/storageAccounts")))["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["supportsHttpsTrafficOnly"] is True
    assert account["defaultToOAuthAuthentication"] is True
    containers = resources_of(parsed, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert len(containers) == 2  # deployment package + dead letters
    assert all(body(c)["properties"]["publicAccess"] == "None" for c in containers)
    assert resources_of(parsed, "Microsoft.Storage/storageAccounts/tableServices/tables")


def test_app_tables_are_created(bicep):
    tables = bicep["main.bicep"]["variables"]["tableNames"]["value"]
    assert set(tables) == {"WorkspaceRetention", "WorkspaceMoves", "WorkspaceInventory", "RetentionSchedule",
                           "RetentionReconcile"}


def test_monitoring_and_alerts_topic_disable_local_auth(bicep):
    monitoring = bicep["app/monitoring.bicep"]
    insights = body(only(resources_of(monitoring, "Microsoft.Insights/components")))["properties"]
    assert insights["DisableLocalAuth"] is True
    workspace = body(only(resources_of(monitoring, "Microsoft.OperationalInsights/workspaces")))["properties"]
    assert workspace["features"]["disableLocalAuth"] is True
    topic = body(only(resources_of(bicep["app/alerts-topic.bicep"], "Microsoft.EventGrid/topics")))["properties"]
    assert topic["disableLocalAuth"] is True
    assert topic["inputSchema"] == "CloudEventSchemaV1_0"


def test_alerts_topic_keeps_its_system_assigned_identity_and_outputs_it(bicep):
    """docs/alerts.md delivers with the topic's identity: a provision must not drop it (it used to set None)."""
    topic = body(only(resources_of(bicep["app/alerts-topic.bicep"], "Microsoft.EventGrid/topics")))
    assert topic["identity"]["type"] == "SystemAssigned"
    assert "principalId" in bicep["app/alerts-topic.bicep"]["outputs"]
    assert "AML_LIFECYCLE_ALERTS_TOPIC_PRINCIPAL_ID" in bicep["main.bicep"]["outputs"]


# ---- Event Grid ------------------------------------------------------------------------------------


def test_system_topic_watches_a_subscription(bicep):
    topic = body(only(resources_of(bicep["app/system-topic.bicep"], "Microsoft.EventGrid/systemTopics")))
    assert topic["location"] == "global"
    assert topic["identity"]["type"] == "SystemAssigned"
    assert topic["properties"]["topicType"] == "Microsoft.Resources.Subscriptions"
    assert bicep["app/subscription-events.bicep"]["globals"]["scope"]["value"] == "subscription"


def test_system_topic_deployed_per_watched_subscription(bicep):
    modules = bicep["main.bicep"]["modules"]
    events = modules["subscriptionEvents"]
    assert events["detail"]["path"] == "app/subscription-events.bicep"
    assert events["config"]["loop_type"]["detail"]["array_name"] == "watched"
    assert body(events)["scope"]["function"]["type"] == "subscription"
    assert modules["eventSubscriptions"]["config"]["loop_type"]["detail"]["array_name"] == "watched"
    assert bicep["main.bicep"]["parameters"]["watchedSubscriptionIds"]["type"] == "array"


def test_event_subscription_filters_retries_and_dead_letters(bicep):
    parsed = bicep["app/event-subscription.bicep"]
    subscription = body(only(resources_of(parsed, "Microsoft.EventGrid/systemTopics/eventSubscriptions")))["properties"]

    destination = subscription["destination"]
    assert destination["endpointType"] == "AzureFunction"
    assert destination["properties"]["resourceId"] == "functionResourceId"

    event_filter = subscription["filter"]
    assert set(event_filter["includedEventTypes"]) == {
        "Microsoft.Resources.ResourceWriteSuccess",
        "Microsoft.Resources.ResourceDeleteSuccess",
        "Microsoft.Resources.ResourceWriteFailure",  # a create refused on a held name: NameBlocked
    }
    [operation] = [f for f in event_filter["advancedFilters"] if f["key"] == "data.operationName"]
    assert operation["operatorType"] in {"StringIn", "StringBeginsWith"}
    assert "Microsoft.MachineLearningServices/workspaces/write" in operation["values"]
    assert "Microsoft.MachineLearningServices/workspaces/delete" in operation["values"]
    assert "Microsoft.Resources/subscriptions/resourceGroups/delete" in operation["values"]  # workspaces go with it

    retry = subscription["retryPolicy"]
    assert set(retry) == {"maxDeliveryAttempts", "eventTimeToLiveInMinutes"}
    assert parsed["parameters"]["maxDeliveryAttempts"]["default"] == 30
    assert parsed["parameters"]["eventTimeToLiveInMinutes"]["default"] == 1440

    dead_letter = subscription["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"]["type"] == "SystemAssigned"
    assert dead_letter["deadLetterDestination"]["endpointType"] == "StorageBlob"
    assert dead_letter["deadLetterDestination"]["properties"]["blobContainerName"] == "deadLetterContainerName"


def test_function_resource_id_targets_workspace_events(bicep_text):
    assert "'${functionApp.id}/functions/workspace_events'" in bicep_text["app/function-app.bicep"]


def test_system_topic_identity_can_write_dead_letters(bicep):
    parsed = bicep["app/deadletter-rbac.bicep"]
    assignment = body(only(resources_of(parsed, "Microsoft.Authorization/roleAssignments")))
    assert assignment["scope"] == "deadLetterContainer"
    role_var = assignment["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    assert ROLE_GUIDS[parsed["variables"][role_var]["value"]] == "Storage Blob Data Contributor"
    main = bicep["main.bicep"]["modules"]
    assert "deadLetterRbac" in json.dumps(body(main["eventSubscriptions"]).get("dependsOn", []))


# ---- role assignments ----------------------------------------------------------------------------


def test_data_plane_roles_granted_to_the_app(bicep):
    parsed = bicep["app/rbac.bicep"]
    granted = set()
    for assignment in resources_of(parsed, "Microsoft.Authorization/roleAssignments"):
        config = body(assignment)
        if config["properties"]["principalId"] != "appPrincipalId":
            continue
        role_var = config["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        granted.add(ROLE_GUIDS[parsed["variables"][role_var]["value"]])
    assert granted == {
        "Storage Blob Data Owner",
        "Storage Queue Data Contributor",
        "Storage Table Data Contributor",
        "Monitoring Metrics Publisher",
        "EventGrid Data Sender",
    }


def test_role_assignment_names_are_deterministic_guids(bicep):
    for rel, parsed in bicep.items():
        for assignment in resources_of(parsed, "Microsoft.Authorization/roleAssignments"):
            name = body(assignment)["name"]
            assert name["function"]["type"] == "guid", rel
            assert len(name["function"]["parameters"]) == 3, rel  # scope, principal, role


def test_every_role_guid_has_its_name_in_a_comment(bicep_text):
    for rel, text in bicep_text.items():
        for line in text.splitlines():
            for guid in GUID.findall(line):
                assert guid in ROLE_GUIDS, f"{rel}: unknown role {guid}"
                assert f"// {ROLE_GUIDS[guid]}" in line, f"{rel}: {line.strip()}"


# ---- custom roles ----------------------------------------------------------------------------------


def test_custom_role_lists_exact_actions(bicep):
    actions = role_actions(bicep["app/role-definition.bicep"])
    assert actions
    for action in actions:
        assert "*" not in action, action
    for required in (
        "Microsoft.Resources/subscriptions/resourceGroups/moveResources/action",
        "Microsoft.Resources/subscriptions/resourceGroups/validateMoveResources/action",
        "Microsoft.Resources/subscriptions/resourceGroups/write",
        "Microsoft.Resources/subscriptions/providers/read",
        "Microsoft.MachineLearningServices/workspaces/privateEndpointConnections/write",
        "Microsoft.MachineLearningServices/workspaces/datastores/read",
        "Microsoft.MachineLearningServices/workspaces/datastores/write",
        "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action",
        "Microsoft.Authorization/roleAssignments/read",
        "Microsoft.Databricks/workspaces/read",
        # approving the re-created private endpoint connections (the RP's approval action, as in the built-in
        # "Azure AI Enterprise Network Connection Approver" role)
        "Microsoft.MachineLearningServices/workspaces/privateEndpointConnectionsApproval/action",
    ):
        assert required in actions, required
    assert not any(a.endswith("/register/action") for a in actions), "the app never registers providers"


def test_inventory_reader_reads_what_the_recovery_report_checks_and_writes_nothing(bicep):
    """The recovery report checks each dependency of a soft-deleted workspace exists (Key Vault, storage,
    Application Insights, registry) and whether a missing one is soft-deleted: the inventory reader, assigned on
    watched subscriptions, needs those reads and nothing else (test_permissions.py checks the exact set)."""
    parsed = bicep["app/role-definition.bicep"]
    inventory = next(d for d in resources_of(parsed, "Microsoft.Authorization/roleDefinitions")
                     if "inventoryRoleName" in json.dumps(body(d)))
    assert body(inventory)["properties"]["permissions"][0]["actions"] == "inventoryActions"
    actions = set(parsed["variables"]["inventoryActions"]["value"])
    for required in (
        "Microsoft.KeyVault/vaults/read",
        "Microsoft.Storage/storageAccounts/read",
        "Microsoft.Insights/components/read",
        "Microsoft.ContainerRegistry/registries/read",
        "Microsoft.KeyVault/deletedVaults/read",
        "Microsoft.Storage/deletedAccounts/read",
        "Microsoft.OperationalInsights/deletedWorkspaces/read",
        "Microsoft.MachineLearningServices/workspaces/read",
    ):
        assert required in actions, required
    assert all(a.endswith("/read") for a in actions), sorted(actions)


def test_no_wildcards_anywhere_in_role_definitions(bicep):
    for rel, parsed in bicep.items():
        for definition in resources_of(parsed, "Microsoft.Authorization/roleDefinitions"):
            for value in walk(body(definition)):
                if isinstance(value, str) and value.startswith("Microsoft."):
                    assert "*" not in value, f"{rel}: {value}"


def test_role_assignment_write_only_when_enabled(bicep):
    variables = bicep["app/role-definition.bicep"]["variables"]
    conditional = variables["roleAssignmentWriteActions"]["value"]["operator"]
    assert conditional["type"] == "conditional"
    assert conditional["operands"]["condition"] == "allowRoleAssignmentWrite"
    assert conditional["operands"]["false_value"] == []
    others = {k: v for k, v in variables.items() if k != "roleAssignmentWriteActions"}
    assert "Microsoft.Authorization/roleAssignments/write" not in json.dumps(others)
    assert bicep["main.bicep"]["parameters"]["allowRoleAssignmentWrite"]["default"] is False


def test_custom_roles_assigned_at_parameter_scopes(bicep):
    main = bicep["main.bicep"]
    assert main["parameters"]["managedScopes"]["type"] == "array"
    assert main["parameters"]["moveTargetScopes"]["type"] == "array"
    assert main["variables"]["operatorScopeIds"]["value"]["function"] == {
        "type": "union",
        "parameters": {"arg_1": "managedScopeIds", "arg_2": "targetScopeIds"},
    }
    operator = main["modules"]["operatorAssignments"]
    assert operator["detail"]["path"] == "app/role-assignment.bicep"
    assert operator["config"]["loop_type"]["detail"]["array_name"] == "operatorScopeIds"
    assert body(operator)["params"]["scopeId"] == "scopeId"
    inventory = main["modules"]["inventoryAssignments"]
    assert inventory["config"]["loop_type"]["detail"]["array_name"] == "watched"
    roles = body(main["modules"]["roles"])["params"]
    # definitions are assignable at the scopes' subscriptions: they never depend on a resource group existing
    assert roles["operatorSubscriptionIds"] == "operatorSubscriptionIds"
    assert roles["targetSubscriptionIds"] == "targetSubscriptionIds"
    assert roles["watchedScopeIds"] == "watchedScopeIds"
    target = main["modules"]["targetAssignments"]
    assert target["config"]["loop_type"]["detail"]["array_name"] == "targetScopeIds"
    status = main["modules"]["subscriptionAssignments"]
    assert status["config"]["loop_type"]["detail"]["array_name"] == "operatorSubscriptionIds"


def test_role_assignment_module_handles_subscription_and_resource_group_scopes(bicep):
    parsed = bicep["app/role-assignment.bicep"]
    assert parsed["globals"]["scope"]["value"] == "subscription"
    [subscription_level] = parsed["resources"].values()
    negated = {"operator": {"type": "not", "operands": {"bool_value": "isResourceGroup"}}}
    assert subscription_level["config"]["condition"] == negated
    [group_level] = parsed["modules"].values()
    assert group_level["config"]["condition"] == "isResourceGroup"
    assert group_level["detail"]["path"] == "role-assignment-rg.bicep"


def test_every_custom_role_action_is_explained_in_docs(bicep):
    deploy_doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    for action in role_actions(bicep["app/role-definition.bicep"]):
        assert f"`{action}`" in deploy_doc, f"docs/deploy.md does not explain {action}"


# ---- azd wiring ------------------------------------------------------------------------------------


def test_parameters_file_matches_main(bicep):
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = bicep["main.bicep"]["parameters"]
    for name in parameters:
        assert name in declared, name
    assert parameters["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert parameters["location"]["value"] == "${AZURE_LOCATION}"
    assert parameters["deployEventSubscriptions"]["value"] == "${DEPLOY_EVENT_SUBSCRIPTIONS=false}"


def test_azd_minimum_version_is_required_and_documented():
    """JSON arrays in azd environment values reach the array parameters only from azd 1.23.4 on."""
    text = (REPO / "azure.yaml").read_text(encoding="utf-8")
    match = re.search(r'^requiredVersions:\n  azd: ">= ?(\d+)\.(\d+)\.(\d+)"$', text, re.M)
    assert match and tuple(map(int, match.groups())) >= (1, 23, 4)
    deploy_doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert f"{'.'.join(match.groups())} or later" in deploy_doc


def test_funcignore_keeps_local_state_out_of_the_package():
    ignored = (REPO / ".funcignore").read_text(encoding="utf-8").split()
    for entry in (".azure/", "local.settings.json", ".local/", "tests/", "infra/", ".venv/"):
        assert entry in ignored, entry


def test_azure_yaml_service_and_hooks():
    text = (REPO / "azure.yaml").read_text(encoding="utf-8")
    assert re.search(r"^services:\n  api:\n    project: \.\n    language: python\n    host: function$", text, re.M)
    assert "./infra/hooks/postdeploy.sh" in text and "./infra/hooks/postdeploy.ps1" in text
    hook = INFRA / "hooks" / "postdeploy.sh"
    assert os.access(hook, os.X_OK)
    hook_text = hook.read_text(encoding="utf-8")
    assert "DEPLOY_EVENT_SUBSCRIPTIONS" in hook_text and "workspace_events" in hook_text
    assert "keys list" not in hook_text, "AzureFunction endpoints need no key: the hook must not read one"
    assert "DEPLOY_EVENT_SUBSCRIPTIONS" in (INFRA / "hooks" / "postdeploy.ps1").read_text(encoding="utf-8")


def test_activity_log_read_and_purge_are_granted_only_where_used(bicep):
    """The backfill and name check read ActivityLogs_List (eventtypes/values/read) on watched subscriptions; the purge
    role (workspaces/delete alone) exists only when purge scopes are given, assignable in their subscriptions."""
    parsed = bicep["app/role-definition.bicep"]
    variables = parsed["variables"]
    assert "Microsoft.Insights/eventtypes/values/read" in variables["inventoryActions"]["value"]
    assert variables["purgeActions"]["value"] == ["Microsoft.MachineLearningServices/workspaces/delete"]
    definitions = resources_of(parsed, "Microsoft.Authorization/roleDefinitions")
    purge = next(d for d in definitions if "purgeRoleName" in json.dumps(body(d)))
    text = json.dumps(purge, default=str)
    assert "hasPurge" in text and "purgeSubscriptionIds" in text
    main = bicep["main.bicep"]
    assert "purgeScopeIds" in json.dumps(main["modules"]["purgeAssignments"], default=str)
