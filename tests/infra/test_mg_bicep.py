"""Offline checks of infra/mg/ (fleet-wide watch at a management group): the DeployIfNotExists initiative, the
deployment it runs (system topic + event subscription with today's filters, retry policy and dead letters), the
assignment's identity and its exact roles, the remediation, and the app's read role at the group."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import body
from tests.infra.test_bicep import ROLE_GUIDS, resources_of

MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"


def resolve(parsed: dict[str, Any], node: Any) -> Any:
    """pycep leaves variable references and union() calls as they are written: inline both, recursively."""
    variables = parsed.get("variables", {})
    if isinstance(node, str) and node in variables:
        return resolve(parsed, variables[node]["value"])
    if isinstance(node, list):
        return [resolve(parsed, item) for item in node]
    if isinstance(node, dict) and set(node) == {"operator"} and node["operator"].get("type") == "property_accessor":
        operands = node["operator"]["operands"]  # a.b.c -> "a.b.c", as written
        return f"{resolve(parsed, operands['operand_1'])}.{resolve(parsed, operands['operand_2'])}"
    if isinstance(node, dict):
        function = node.get("function")
        if set(node) == {"function"} and isinstance(function, dict) and function.get("type") == "union":
            merged: dict[str, Any] = {}
            for arg in function["parameters"].values():
                merged.update(resolve(parsed, arg))
            return merged
        return {key.strip("'"): resolve(parsed, value) for key, value in node.items()}
    return node


@pytest.fixture(scope="module")
def definitions(bicep) -> dict[str, Any]:
    parsed = bicep["mg/policy-definitions.bicep"]
    return {name: resolve(parsed, body(parsed["resources"][name])) for name in
            ("topicDefinition", "subscriptionDefinition", "initiative")}


def nested_wiring(deployment_template: dict[str, Any]) -> dict[str, Any]:
    """The resource-group template inside a definition's deployment (one nested deployment)."""
    [nested] = [r for r in deployment_template["resources"] if r["type"] == "Microsoft.Resources/deployments"]
    assert nested["properties"]["expressionEvaluationOptions"] == {"scope": "inner"}
    return nested


def test_management_group_template_is_opt_in_and_at_group_scope(bicep):
    for rel in ("mg/main.bicep", "mg/policy-definitions.bicep", "mg/roles.bicep"):
        assert bicep[rel]["globals"]["scope"]["value"] == "managementGroup", rel
    paths = [m["detail"]["path"] for m in bicep["main.bicep"]["modules"].values()]
    assert paths and not any(p.startswith(("mg/", "./mg/")) for p in paths)  # the subscription deployment never pulls it in


def test_topic_policy_targets_subscriptions_and_checks_for_their_system_topic(definitions):
    rule = definitions["topicDefinition"]["properties"]["policyRule"]
    assert definitions["topicDefinition"]["properties"]["mode"] == "All"
    assert rule["if"] == {"field": "type", "equals": "Microsoft.Resources/subscriptions"}
    details = rule["then"]["details"]
    assert rule["then"]["effect"] == "[parameters(\\'effect\\')]"
    assert details["type"] == "Microsoft.EventGrid/systemTopics"
    assert details["existenceScope"] == "subscription"  # one topic per subscription, wherever its group
    assert details["existenceCondition"] == {"field": "Microsoft.EventGrid/systemTopics/topicType",
                                             "equals": "Microsoft.Resources.Subscriptions"}
    assert details["deploymentScope"] == "subscription" and "location" in details["deployment"]
    template = details["deployment"]["properties"]["template"]
    assert "subscriptionDeploymentTemplate" in template["$schema"]
    assert [r["type"] for r in template["resources"]] == ["Microsoft.Resources/resourceGroups",
                                                          "Microsoft.Resources/deployments"]
    nested = nested_wiring(template)
    # a new topic: source is the evaluated subscription itself
    assert "subscription().id" in nested["properties"]["parameters"]["existingTopic"]["value"]


def test_subscription_policy_joins_any_existing_topic_instead_of_failing(definitions):
    rule = definitions["subscriptionDefinition"]["properties"]["policyRule"]
    assert {"field": "type", "equals": "Microsoft.EventGrid/systemTopics"} in rule["if"]["allOf"]
    assert {"field": "Microsoft.EventGrid/systemTopics/topicType",
            "equals": "Microsoft.Resources.Subscriptions"} in rule["if"]["allOf"]
    details = rule["then"]["details"]
    assert details["type"] == "Microsoft.EventGrid/systemTopics/eventSubscriptions"
    conditions = {c["field"]: c["equals"] for c in details["existenceCondition"]["allOf"]}
    assert conditions == {
        "Microsoft.EventGrid/systemTopics/eventSubscriptions/destination.endpointType": "AzureFunction",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions/destination.AzureFunction.resourceId":
            "[parameters(\\'functionResourceId\\')]",
    }
    deployment = details["deployment"]["properties"]
    assert deployment["parameters"]["topicName"] == {"value": "[field(\\'name\\')]"}  # the topic found, not ours
    nested = nested_wiring(deployment["template"])
    existing = nested["properties"]["parameters"]["existingTopic"]["value"]
    assert existing.startswith("[reference(resourceId(") and "Full" in existing  # read, then written back


@pytest.mark.parametrize("definition", ["topicDefinition", "subscriptionDefinition"])
def test_deployment_creates_the_topic_and_the_event_subscription_as_today(definitions, bicep, definition):
    details = definitions[definition]["properties"]["policyRule"]["then"]["details"]
    wiring = nested_wiring(details["deployment"]["properties"]["template"])["properties"]["template"]
    topic, subscription = wiring["resources"]
    assert topic["type"] == "Microsoft.EventGrid/systemTopics"
    assert "SystemAssigned, UserAssigned" in topic["identity"]["type"]  # keeps a system identity it had
    assert "deadLetterIdentityId" in topic["identity"]["userAssignedIdentities"]
    assert topic["properties"]["topicType"].endswith(".properties.topicType]")
    assert subscription["type"] == "Microsoft.EventGrid/systemTopics/eventSubscriptions"
    properties = subscription["properties"]

    today = body(resources_of(bicep["app/event-subscription.bicep"],
                              "Microsoft.EventGrid/systemTopics/eventSubscriptions")[0])["properties"]
    assert properties["filter"] == today["filter"]  # same event types and the same ML workspace operation filter
    assert properties["destination"]["endpointType"] == today["destination"]["endpointType"] == "AzureFunction"
    assert set(properties["retryPolicy"]) == set(today["retryPolicy"]) == {"maxDeliveryAttempts",
                                                                           "eventTimeToLiveInMinutes"}
    dead_letter = properties["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"] == {"type": "UserAssigned",
                                       "userAssignedIdentity": "[parameters(\\'deadLetterIdentityId\\')]"}
    assert dead_letter["deadLetterDestination"]["endpointType"] == "StorageBlob"
    assert dead_letter["deadLetterDestination"]["properties"]["blobContainerName"] == \
        "[parameters(\\'deadLetterContainerName\\')]"
    parameters = definitions[definition]["properties"]["parameters"]
    assert parameters["maxDeliveryAttempts"]["defaultValue"] == 30
    assert parameters["eventTimeToLiveInMinutes"]["defaultValue"] == 1440
    assert parameters["effect"]["allowedValues"] == ["DeployIfNotExists", "AuditIfNotExists", "Disabled"]


def test_one_initiative_holds_both_definitions(definitions):
    references = {d["policyDefinitionReferenceId"]: d["policyDefinitionId"]
                  for d in definitions["initiative"]["properties"]["policyDefinitions"]}
    assert references == {"topic": "topicDefinition.id", "subscription": "subscriptionDefinition.id"}


def block(bicep, rel: str, kind: str, name: str) -> Any:
    parsed = bicep[rel]
    return resolve(parsed, body(parsed[kind][name]))


def test_assignment_identity_holds_exactly_the_roles_the_deployment_needs(bicep, definitions):
    assignment = block(bicep, "mg/main.bicep", "resources", "assignment")
    assert assignment["identity"] == {"type": "SystemAssigned"} and assignment["location"] == "location"
    assert assignment["properties"]["policyDefinitionId"] == "definitions.outputs.initiativeId"
    role_ids = block(bicep, "mg/main.bicep", "modules", "definitions")["params"]["roleDefinitionIds"]
    assert role_ids[0] == "roles.outputs.wiringRoleId"
    operator = role_ids[1]
    assert operator.endswith(MANAGED_IDENTITY_OPERATOR) and ROLE_GUIDS[MANAGED_IDENTITY_OPERATOR]
    for name in ("topicDefinition", "subscriptionDefinition"):
        assert definitions[name]["properties"]["policyRule"]["then"]["details"]["roleDefinitionIds"] == \
            "roleDefinitionIds"

    # the exact wiring role at the group, for the assignment's identity
    wiring = block(bicep, "mg/main.bicep", "resources", "wiringAssignment")["properties"]
    assert wiring == {"roleDefinitionId": "roles.outputs.wiringRoleId",
                      "principalId": "assignment.identity.principalId", "principalType": "ServicePrincipal"}
    actions = body(bicep["mg/roles.bicep"]["resources"]["wiringRole"])["properties"]["permissions"][0]["actions"]
    assert set(actions) == {
        "Microsoft.Resources/subscriptions/read", "Microsoft.Resources/subscriptions/resourceGroups/read",
        "Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.Resources/deployments/read",
        "Microsoft.Resources/deployments/write", "Microsoft.Resources/deployments/validate/action",
        "Microsoft.Resources/deployments/operations/read", "Microsoft.Resources/deployments/operationstatuses/read",
        "Microsoft.EventGrid/systemTopics/read", "Microsoft.EventGrid/systemTopics/write",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions/read",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions/write",
        "Microsoft.EventGrid/eventSubscriptions/write"}  # checked at the event source (Event Grid authorization docs)
    assert not any("*" in a or a.endswith("/delete") for a in actions)

    # outside the group, each at the narrowest scope: the dead-letter identity and the function app
    rbac = bicep["mg/policy-identity-rbac.bicep"]
    operator_assignment = block(bicep, "mg/policy-identity-rbac.bicep", "resources", "identityOperator")
    assert operator_assignment["scope"] == "deadLetterIdentity"
    assert operator_assignment["properties"]["principalId"] == "policyPrincipalId"
    assert rbac["variables"]["managedIdentityOperator"]["value"] == MANAGED_IDENTITY_OPERATOR
    link = block(bicep, "mg/policy-identity-rbac.bicep", "resources", "handlerLink")
    assert link["scope"] == "functionApp" and link["properties"]["roleDefinitionId"] == "handlerRole.id"
    handler_actions = body(rbac["resources"]["handlerRole"])["properties"]["permissions"][0]["actions"]
    assert all(a.startswith("Microsoft.Web/sites/") and "*" not in a for a in handler_actions)
    assert block(bicep, "mg/main.bicep", "modules", "policyIdentityRbac")["params"]["policyPrincipalId"] == \
        "assignment.identity.principalId"


def test_dead_letter_identity_may_write_only_the_dead_letter_container(bicep):
    parsed = bicep["mg/deadletter-identity.bicep"]
    writer = body(parsed["resources"]["deadLetterWriter"])
    assert writer["scope"] == "deadLetterContainer"
    role_var = writer["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    assert ROLE_GUIDS[parsed["variables"][role_var]["value"]] == "Storage Blob Data Contributor"


def test_remediation_covers_existing_subscriptions_then_existing_topics(bicep):
    main = bicep["mg/main.bicep"]
    topics, subscriptions = main["resources"]["remediateTopics"], main["resources"]["remediateSubscriptions"]
    assert topics["type"] == subscriptions["type"] == "Microsoft.PolicyInsights/remediations"
    for remediation, reference in ((topics, "topic"), (subscriptions, "subscription")):
        properties = resolve(main, body(remediation))["properties"]
        assert properties["policyAssignmentId"] == "assignment.id"
        assert properties["policyDefinitionReferenceId"] == reference
        assert properties["resourceDiscoveryMode"] == "ExistingNonCompliant"  # the only mode at a group
    assert {"wiringAssignment", "policyIdentityRbac"} <= set(body(topics)["dependsOn"])  # roles before deploying
    assert body(subscriptions)["dependsOn"] == ["remediateTopics"]
    assert main["parameters"]["remediateExisting"]["default"] is True


def test_app_identity_reads_the_group_for_discovery_backfill_and_coverage(bicep):
    inventory = block(bicep, "mg/main.bicep", "resources", "inventoryAssignment")["properties"]
    assert inventory["principalId"] == "appPrincipalId"
    assert inventory["roleDefinitionId"] == "roles.outputs.inventoryRoleId"
    roles = bicep["mg/roles.bicep"]
    assert body(roles["resources"]["inventoryRole"])["properties"]["permissions"][0]["actions"] == \
        "fleetInventoryActions"
    actions = roles["variables"]["inventoryActions"]["value"] + roles["variables"]["fleetActions"]["value"]
    for needed in ("Microsoft.Management/managementGroups/descendants/read",
                   "Microsoft.MachineLearningServices/workspaces/read", "Microsoft.EventGrid/systemTopics/read",
                   "Microsoft.EventGrid/systemTopics/eventSubscriptions/read"):
        assert needed in actions
    assert not any(a.endswith(("/write", "/delete")) or "*" in a for a in actions)  # read only
    # below the group, the same reads as the listed mode's Inventory Reader
    assert roles["variables"]["inventoryActions"]["value"] == \
        bicep["app/role-definition.bicep"]["variables"]["inventoryActions"]["value"]


def test_app_setting_follows_the_watch_scope(bicep):
    settings = bicep["main.bicep"]["variables"]["lifecycleSettings"]["value"]
    assert settings["AML_LIFECYCLE_BACKFILL_SCHEDULE"] == "backfillSchedule"
    watched = json.dumps(settings["AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS"])
    assert "watchScope" in watched
    assert bicep["main.bicep"]["parameters"]["watchScope"]["default"] == ""
