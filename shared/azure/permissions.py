"""Every ARM call the app makes, the role actions it needs and the feature that grants them: one table.

tests/infra/test_permissions.py reads the code (every client / gateway call site, found with ast) and fails when a
call site is missing here, when an entry names a call the code no longer makes, when infra/ does not grant an
action of an enabled feature, or grants one no entry uses. docs/deploy.md's permission table is printed from this
table (`python -m shared.azure.permissions`). Adding an ARM call means adding one `Call` line here and, for a new
action, one line in the feature's variable in infra/app/role-definition.bicep (infra/README.md, "Permissions").
"""

from __future__ import annotations

from dataclasses import dataclass

ML = "Microsoft.MachineLearningServices"
RG = "Microsoft.Resources/subscriptions/resourceGroups"


@dataclass(frozen=True)
class Feature:
    """A group of actions granted together: the custom role and Bicep variable holding them, and the switch."""

    role: str  # the custom role in infra/app/role-definition.bicep (or infra/mg/roles.bicep for "fleet")
    variable: str  # the Bicep variable listing exactly these actions
    flag: str | None  # main.bicep parameter that turns the feature on; None: always on
    scope: str  # where the role is assigned


FEATURES: dict[str, Feature] = {
    "inventory": Feature("Inventory Reader", "inventoryActions", None, "each watched subscription"),
    "fleet": Feature("Fleet Inventory Reader", "fleetActions", None, "the management group (infra/mg)"),
    "move": Feature("Operator", "moveActions", None, "each managed and target scope"),
    "quiesce": Feature("Operator", "quiesceActions", "allowQuiesce", "each managed and target scope"),
    "datastoreFix": Feature("Operator", "datastoreFixActions", "allowDatastoreFix", "each managed and target scope"),
    "roleAssignmentWrite": Feature("Operator", "roleAssignmentWriteActions", "allowRoleAssignmentWrite",
                                   "each managed and target scope"),
    "moveTarget": Feature("Move Target", "moveTargetActions", None, "each target scope"),
    "groupCleanup": Feature("Move Target", "groupCleanupActions", "allowTargetGroupCleanup", "each target scope"),
    "moveSubscription": Feature("Subscription Reader", "moveSubscriptionActions", None,
                                "the subscription of each managed and target scope"),
    "quiesceStatus": Feature("Subscription Reader", "quiesceStatusActions", "allowQuiesce",
                             "the subscription of each managed and target scope"),
    "purge": Feature("Purger", "purgeActions", None, "each purge scope (`purgeScopes`; none: no role)"),
}


@dataclass(frozen=True)
class Call:
    """One function's ARM operations (as tests/infra/arm_scan.py names them) and the actions they need."""

    site: str  # "module:qualname" of the function sending the request
    ops: tuple[str, ...]
    actions: tuple[str, ...]  # empty: ARM checks no action (say why in `why`)
    feature: str
    why: str


# Gateway plumbing: the methods that call these name the actions.
DELEGATED = frozenset({
    "shared.azure.ml_gateway:MlGateway._send",
    "shared.azure.ml_gateway:MlGateway._get",
    "shared.azure.ml_gateway:MlGateway._list",
    "shared.azure.ml_workload:WorkloadGateway.find",
    "shared.azure.ml_workload:WorkloadGateway.put",
    "shared.azure.ml_workload:WorkloadGateway.delete",
    "shared.azure.ml_workload:WorkloadGateway.cancel_job",
    "shared.azure.ml_workload:WorkloadGateway.follow",
    "shared.azure.ml_workload:WorkloadGateway.computes",
    "shared.azure.ml_workload:WorkloadGateway.online_endpoints",
    "shared.azure.ml_workload:WorkloadGateway.deployments",
    "shared.azure.ml_workload:WorkloadGateway.active_jobs",
})

# Raw pipeline sends that do not go to ARM (no role action): the alert card posted to the person's webhook.
NOT_ARM = frozenset({
    "shared.notify.webhook:deliver",
})

_GW = "shared.azure.ml_gateway:MlGateway."
_WS_READ = f"{ML}/workspaces/read"
_WORKLOAD_READS = (f"{ML}/workspaces/computes/read", f"{ML}/workspaces/onlineEndpoints/read",
                   f"{ML}/workspaces/onlineEndpoints/deployments/read", f"{ML}/workspaces/jobs/read")
# Operation-status URLs of ML writes live under /subscriptions/{id}/providers/Microsoft.MachineLearningServices/
# locations/{region}/...: readable only through a role assigned at the subscription (the built-in AzureML roles
# grant them as locations/*/read).
_ML_STATUS = (f"{ML}/locations/computeOperationsStatus/read", f"{ML}/locations/mfeOperationsStatus/read",
              f"{ML}/locations/mfeOperationResults/read")

CALLS: tuple[Call, ...] = (
    # ---- retention: ledger, inventory, sweep, recovery report, coverage (watched subscriptions) ----------------
    Call(f"{_GW}get_workspace", ("self._get",), (_WS_READ,), "inventory",
         "Workspaces_Get: inventory of a written workspace, a moved workspace"),
    Call(f"{_GW}list_workspaces", ("self._list",), (_WS_READ,), "inventory",
         "Workspaces_ListBySubscription: inventory backfill"),
    Call("shared.retention.arm_probe:WorkspaceProbe.__call__", ("send_request",), (_WS_READ,), "inventory",
         "Workspaces_Get: the sweep's reconciliation probe"),
    Call("shared.retention.recoverability:check_dependency", ("resources.resources.check_existence_by_id",),
         ("Microsoft.KeyVault/vaults/read", "Microsoft.Storage/storageAccounts/read",
          "Microsoft.ContainerRegistry/registries/read", "Microsoft.Insights/components/read"), "inventory",
         "HEAD of each dependency of a soft-deleted workspace (recovery report)"),
    Call("shared.retention.dependency_states:_log_analytics",
         ("resources.resources.get_by_id", "resources.resources.check_existence_by_id"),
         ("Microsoft.Insights/components/read", "Microsoft.OperationalInsights/workspaces/read"), "inventory",
         "the Application Insights component's Log Analytics workspace (recovery report)"),
    Call("shared.retention.deleted_resources:DeletedResources._read", ("send_request",),
         ("Microsoft.KeyVault/deletedVaults/read", "Microsoft.Storage/deletedAccounts/read",
          "Microsoft.OperationalInsights/deletedWorkspaces/read"), "inventory",
         "soft-deleted dependencies: Vaults_ListDeleted, DeletedAccounts_List, DeletedWorkspaces_List"),
    Call("shared.azure.activity_log:read_activity_log", ("send_request",), ("Microsoft.Insights/eventtypes/values/read",),
         "inventory", "ActivityLogs_List: workspace deletes the events missed (backfill, name check, purge proof)"),
    Call("shared.retention.recoverability:check_group", ("resources.resource_groups.check_existence",), (f"{RG}/read",),
         "inventory", "recovery report: is the soft-deleted workspace's resource group still there (blockedBy)"),
    Call("shared.retention.coverage:check_subscription",
         ("eventgrid.system_topics.list_by_subscription",
          "eventgrid.system_topic_event_subscriptions.list_by_system_topic"),
         ("Microsoft.EventGrid/systemTopics/read", "Microsoft.EventGrid/systemTopics/eventSubscriptions/read"),
         "inventory", "GET /api/coverage: the subscription's system topic and its event subscriptions"),
    Call("shared.retention.coverage:coverage_report", ("subscriptions.subscriptions.list",), (), "inventory",
         "GET /subscriptions lists the subscriptions the identity holds any role in; no action is checked"),
    Call("shared.retention.watched:resolve_watched", ("subscriptions.subscriptions.list",), (), "inventory",
         "GET /subscriptions (watch '*'): no action is checked"),
    Call("shared.retention.watched:resolve_watched", ("management_groups.management_groups.get_descendants",),
         ("Microsoft.Management/managementGroups/descendants/read",), "fleet",
         "watch a management group: its descendant subscriptions"),
    Call("shared.health:_arm", ("subscriptions.subscriptions.list",), (), "inventory",
         "GET /api/health: GET /subscriptions, no action is checked"),
    # ---- move preflight and move (operator role) ------------------------------------------------------------
    Call(f"{_GW}get_workspace", ("self._get",), (_WS_READ,), "move", "preflight, reconcile a move, target name free"),
    # GET /subscriptions/{id} and /subscriptions/{id}/providers/{namespace} are authorized at the subscription.
    Call("shared.moves.snapshot:_tenant", ("subscriptions.subscriptions.get",),
         ("Microsoft.Resources/subscriptions/read",), "moveSubscription",
         "source and target tenant (cross-tenant moves fail)"),
    Call("shared.moves.snapshot:_group", ("resources.resource_groups.get",), (f"{RG}/read",), "move",
         "the target group and its region"),
    Call("shared.moves.snapshot:_provider_state", ("resources.providers.get",),
         ("Microsoft.Resources/subscriptions/providers/read",), "moveSubscription",
         "providers registered in the target"),
    Call("shared.moves.snapshot:_databricks_links", ("databricks.workspaces.list_by_subscription",),
         ("Microsoft.Databricks/workspaces/read",), "move", "Databricks workspaces linked to the ML workspace"),
    Call(f"{_GW}list_computes", ("self._list",), (f"{ML}/workspaces/computes/read",), "move", "preflight, inventory"),
    Call(f"{_GW}list_online_endpoints", ("self._list",), (f"{ML}/workspaces/onlineEndpoints/read",), "move",
         "preflight, inventory"),
    Call(f"{_GW}list_online_deployments", ("self._list",), (f"{ML}/workspaces/onlineEndpoints/deployments/read",),
         "move", "preflight"),
    Call(f"{_GW}list_batch_endpoints", ("self._list",), (f"{ML}/workspaces/batchEndpoints/read",), "move",
         "preflight, inventory"),
    Call(f"{_GW}list_serverless_endpoints", ("self._list",), (f"{ML}/workspaces/serverlessEndpoints/read",), "move",
         "preflight: workspace.no-serverless-endpoints"),
    Call(f"{_GW}list_outbound_rules", ("self._list",), (f"{ML}/workspaces/outboundRules/read",), "move",
         "preflight: workspace.managed-network"),
    Call(f"{_GW}iter_job_pages", ("self._send",), (f"{ML}/workspaces/jobs/read",), "move", "preflight: active jobs"),
    Call(f"{_GW}list_datastores", ("self._list",), (f"{ML}/workspaces/datastores/read",), "move",
         "inventory, datastore check"),
    Call(f"{_GW}get_datastore", ("self._get",), (f"{ML}/workspaces/datastores/read",), "move", "datastore check"),
    Call(f"{_GW}list_private_endpoint_connections", ("self._list",),
         (f"{ML}/workspaces/privateEndpointConnections/read",), "move", "inventory, approval rounds"),
    Call(f"{_GW}approve_private_endpoint_connection", ("self._send",),
         (f"{ML}/workspaces/privateEndpointConnections/write",
         f"{ML}/workspaces/privateEndpointConnectionsApproval/action"),
         "move", "approve the re-created private endpoint connections (PUT; the RP checks the approval action too)"),
    Call("shared.moves.premove_inventory:list_role_assignments", ("authorization.role_assignments.list_for_scope",),
         ("Microsoft.Authorization/roleAssignments/read",), "move", "role assignments on the workspace"),
    Call("shared.moves.operations:start_operation", ("send_request",),
         (f"{RG}/validateMoveResources/action", f"{RG}/moveResources/action"), "move",
         "POST validateMoveResources / moveResources on the source group"),
    Call("shared.moves.operations:poll_operation", ("send_request",),
         ("Microsoft.Resources/subscriptions/operationresults/read",), "moveSubscription",
         "GET the move's Location, /subscriptions/{id}/operationresults/{token}"),
    Call("shared.moves.workload.snapshot:take_workload",
         ("gw.computes", "gw.online_endpoints", "gw.deployments", "gw.active_jobs"), _WORKLOAD_READS, "move",
         "quiesce: the workload to take down"),
    Call("shared.moves.workload.quiesce:_remove", ("gw.find",), _WORKLOAD_READS[:3], "move",
         "the resource is the judge"),
    Call("shared.moves.workload.quiesce:_cancel", ("gw.find",), (f"{ML}/workspaces/jobs/read",), "move",
         "the job is the judge"),
    Call("shared.moves.workload.restore:_apply", ("gw.find",), _WORKLOAD_READS[:3], "move",
         "the resource is the judge"),
    # ---- the move's target group: destination write (ARM's move checklist), create, clean up ------------------
    Call("shared.moves.activities:_ensure_target_group", ("resources.resource_groups.get",), (f"{RG}/read",), "move",
         "does the target group exist"),
    Call("shared.moves.activities:_ensure_target_group", ("resources.resource_groups.create_or_update",),
         (f"{RG}/write",), "moveTarget", "createTargetResourceGroup (needs a subscription target scope)"),
    Call("shared.moves.preflight.validation:_create_target_group", ("resources.resource_groups.create_or_update",),
         (f"{RG}/write",), "moveTarget", "createTargetResourceGroup during validation"),
    Call("shared.moves.preflight.group_cleanup:remove_created_group",
         ("resources.resources.list_by_resource_group", "resources.resource_groups.begin_delete"),
         (f"{RG}/resources/read", f"{RG}/delete"), "groupCleanup",
         "delete again the (empty) target group a failed validation created"),
    # ---- quiesce: take the workload down before the move, bring it back after ---------------------------------
    Call("shared.moves.workload.quiesce:_remove", ("gw.delete",),
         (f"{ML}/workspaces/computes/delete", f"{ML}/workspaces/onlineEndpoints/delete",
          f"{ML}/workspaces/onlineEndpoints/deployments/delete"), "quiesce",
          "Compute_Delete, OnlineEndpoints_Delete, OnlineDeployments_Delete"),
    Call("shared.moves.workload.quiesce:_cancel", ("gw.cancel_job",), (f"{ML}/workspaces/jobs/cancel/action",),
         "quiesce", "Jobs_Cancel"),
    Call("shared.moves.workload.restore:_apply", ("gw.put",),
         (f"{ML}/workspaces/computes/write", f"{ML}/workspaces/onlineEndpoints/write",
          f"{ML}/workspaces/onlineEndpoints/deployments/write",
          "Microsoft.Network/virtualNetworks/subnets/join/action",
          "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"), "quiesce",
         "re-create computes / endpoints / deployments; a compute in a subnet joins it, "
         "a user-assigned identity is assigned"),
    Call("shared.moves.workload.quiesce:_remove", ("gw.follow",), _ML_STATUS, "quiesceStatus", "follow a delete"),
    Call("shared.moves.workload.quiesce:_cancel", ("gw.follow",), _ML_STATUS, "quiesceStatus", "follow a cancel"),
    Call("shared.moves.workload.restore:_apply", ("gw.follow",), _ML_STATUS, "quiesceStatus", "follow a create"),
    # ---- datastores pointing at the old subscription ------------------------------------------------------------
    Call(f"{_GW}put_datastore", ("self._send",), (f"{ML}/workspaces/datastores/write",), "datastoreFix",
         "fix or re-create"),
    Call(f"{_GW}delete_datastore", ("self._send",), (f"{ML}/workspaces/datastores/delete",), "datastoreFix",
         "unregister before re-creating"),
    Call(f"{_GW}list_datastore_secrets", ("self._send",), (f"{ML}/workspaces/datastores/listsecrets/action",),
         "datastoreFix",
         "carry a key-based datastore's credentials to its re-created definition (memory only)"),
    # ---- purge on request, inside AML_LIFECYCLE_PURGE_SCOPES -------------------------------------------------------
    Call("shared.retention.purge:RetentionPurge._delete", ("send_request",), (f"{ML}/workspaces/delete",), "purge",
         "Workspaces_Delete with forceToPurge=true of a soft-deleted workspace"),
    # ---- workspace-scope role assignments after a move -----------------------------------------------------------
    Call("shared.moves.steps:_recreate", ("authorization.role_assignments.create",),
         ("Microsoft.Authorization/roleAssignments/write",), "roleAssignmentWrite",
         "re-create a workspace-scope assignment"),
)


def actions_of(feature: str) -> set[str]:
    """Every action the entries of one feature need."""
    return {action for call in CALLS if call.feature == feature for action in call.actions}


def markdown() -> str:
    """docs/deploy.md's permission table: one row per feature and action, with the functions that need it."""
    lines = ["| feature (switch) | role, assigned at | action | used by |", "|---|---|---|---|"]
    for name, feature in FEATURES.items():
        switch = f"`{feature.flag}`" if feature.flag else "always"
        for action in sorted(actions_of(name)):
            users = sorted({c.site.removeprefix("shared.").replace(":", ".") for c in CALLS
                            if c.feature == name and action in c.actions})
            lines.append(f"| {name} ({switch}) | {feature.role}, {feature.scope} | `{action}` | "
                         f"{', '.join(f'`{u}`' for u in users)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
