// The app's custom roles, defined in the deployment subscription. Every action is listed exactly (no wildcard),
// grouped by feature; each group matches one feature of shared/azure/permissions.py (the table of every ARM call
// the code makes), which tests/infra/test_permissions.py checks both ways. An optional feature's group is empty
// unless its switch is on. docs/deploy.md ("Permissions") is printed from the same table.
//
// Role names carry the environment and the subscription: custom role names are unique per tenant, so the same
// environment deployed from a second subscription gets its own roles. Assignable scopes are subscriptions (the
// subscriptions holding the scopes), never resource groups: a definition must not depend on a group existing,
// and removing a scope later never has to shrink a definition that an assignment still uses.
targetScope = 'subscription'

@description('Used to make the role names and ids unique per azd environment.')
param environmentName string
@description('Subscription ids (/subscriptions/<id>) holding the managed and target scopes.')
param operatorSubscriptionIds array
@description('Subscription ids (/subscriptions/<id>) holding the target scopes.')
param targetSubscriptionIds array
@description('Full ids (/subscriptions/<id>) of the subscriptions whose workspaces are inventoried.')
param watchedScopeIds array
param allowQuiesce bool = false
param allowDatastoreFix bool = true
param allowTargetGroupCleanup bool = false
param allowRoleAssignmentWrite bool = false
@description('Exact extra actions for the operator role, for tenant-specific move needs. No wildcards.')
param extraActions array = []
@description('Subscription ids (/subscriptions/<id>) holding the purge scopes (AML_LIFECYCLE_PURGE_SCOPES). Empty: no purge role.')
param purgeSubscriptionIds array = []

// ---- Operator: at every managed and target scope -------------------------------------------------------------
// move: preflight reads, validateMoveResources / moveResources on the source group (ARM's move checklist:
// moveResources/action on the source group, resourceGroups/write on the target group, the latter in the Move
// Target role), approving the re-created private endpoint connections, reading datastores and role assignments.
var moveActions = [
  'Microsoft.Resources/subscriptions/resourceGroups/read'
  'Microsoft.Resources/subscriptions/resourceGroups/validateMoveResources/action'
  'Microsoft.Resources/subscriptions/resourceGroups/moveResources/action'
  'Microsoft.MachineLearningServices/workspaces/read'
  'Microsoft.MachineLearningServices/workspaces/computes/read'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/read'
  'Microsoft.MachineLearningServices/workspaces/batchEndpoints/read'
  // preflight workspace.no-serverless-endpoints: MlGateway.list_serverless_endpoints (shared/moves/snapshot.py)
  'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/read'
  // preflight workspace.managed-network: MlGateway.list_outbound_rules (shared/moves/snapshot.py)
  'Microsoft.MachineLearningServices/workspaces/outboundRules/read'
  'Microsoft.MachineLearningServices/workspaces/jobs/read'
  'Microsoft.MachineLearningServices/workspaces/datastores/read'
  'Microsoft.MachineLearningServices/workspaces/privateEndpointConnections/read'
  'Microsoft.MachineLearningServices/workspaces/privateEndpointConnections/write'
  'Microsoft.MachineLearningServices/workspaces/privateEndpointConnectionsApproval/action'
  'Microsoft.Databricks/workspaces/read'
  'Microsoft.Authorization/roleAssignments/read'
]

// quiesce (allowQuiesce): delete computes / online endpoints / deployments and cancel jobs before the move,
// re-create them after. A compute re-created in a subnet joins it, one with a user-assigned identity assigns it
// (ARM's linked-access checks on the subnet and the identity: they must sit inside a managed scope).
var quiesceActions = allowQuiesce ? [
  'Microsoft.MachineLearningServices/workspaces/computes/write'
  'Microsoft.MachineLearningServices/workspaces/computes/delete'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/delete'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/delete'
  'Microsoft.MachineLearningServices/workspaces/jobs/cancel/action'
  'Microsoft.Network/virtualNetworks/subnets/join/action'
  'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
] : []

// datastore fix (allowDatastoreFix): fill in or unregister + re-create a datastore that still names the old
// subscription; listsecrets carries a key-based datastore's credentials to its new definition (memory only).
var datastoreFixActions = allowDatastoreFix ? [
  'Microsoft.MachineLearningServices/workspaces/datastores/write'
  'Microsoft.MachineLearningServices/workspaces/datastores/delete'
  'Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action'
] : []

// Re-create workspace-scope role assignments after a move: it lets the identity grant roles. Off by default.
var roleAssignmentWriteActions = allowRoleAssignmentWrite ? [
  'Microsoft.Authorization/roleAssignments/write'
] : []

// ---- Move Target: at the target scopes only ------------------------------------------------------------------
// resourceGroups/write: ARM's move checklist asks it on the target group; it also creates a missing target group
// (createTargetResourceGroup), which works only where the target scope is a subscription.
var moveTargetActions = [
  'Microsoft.Resources/subscriptions/resourceGroups/write'
]

// group clean-up (allowTargetGroupCleanup): delete again the still-empty target group a failed validation created.
var groupCleanupActions = allowTargetGroupCleanup ? [
  'Microsoft.Resources/subscriptions/resourceGroups/resources/read'
  'Microsoft.Resources/subscriptions/resourceGroups/delete'
] : []

// ---- Subscription Reader: at the subscription of every managed and target scope -------------------------------
// What ARM authorizes at the subscription itself, which a resource-group assignment cannot reach: the subscription
// (its tenant), its providers' registration state (GET /subscriptions/<id>/providers/<namespace>), and the status
// URLs of long-running operations: /subscriptions/<id>/operationresults/<token> (moves) and /subscriptions/<id>/
// providers/Microsoft.MachineLearningServices/locations/<region>/... (computes, endpoints, jobs). Reads only.
var moveSubscriptionActions = [
  'Microsoft.Resources/subscriptions/read'
  'Microsoft.Resources/subscriptions/providers/read'
  'Microsoft.Resources/subscriptions/operationresults/read'
]

var quiesceStatusActions = allowQuiesce ? [
  'Microsoft.MachineLearningServices/locations/computeOperationsStatus/read'
  'Microsoft.MachineLearningServices/locations/mfeOperationsStatus/read'
  'Microsoft.MachineLearningServices/locations/mfeOperationResults/read'
] : []

// ---- Inventory Reader: at every watched subscription --------------------------------------------------------
// Workspaces (backfill, ingestion, the sweep's probe), the recovery report's dependency reads and soft-deleted
// dependencies, the coverage report's system topic and event subscriptions.
var inventoryActions = [
  'Microsoft.MachineLearningServices/workspaces/read'
  // recovery report: is a soft-deleted workspace's resource group still there (recoverability.check_group)
  'Microsoft.Resources/subscriptions/resourceGroups/read'
  'Microsoft.KeyVault/vaults/read'
  'Microsoft.Storage/storageAccounts/read'
  'Microsoft.ContainerRegistry/registries/read'
  'Microsoft.Insights/components/read'
  'Microsoft.OperationalInsights/workspaces/read'
  'Microsoft.KeyVault/deletedVaults/read'
  'Microsoft.Storage/deletedAccounts/read'
  'Microsoft.OperationalInsights/deletedWorkspaces/read'
  'Microsoft.EventGrid/systemTopics/read'
  'Microsoft.EventGrid/systemTopics/eventSubscriptions/read'
  // ActivityLogs_List (shared/azure/activity_log.py): the backfill and the name check read workspace deletes
  'Microsoft.Insights/eventtypes/values/read'
]

// ---- Purger: at each purge scope only (AML_LIFECYCLE_PURGE_SCOPES) -----------------------------------------------
// POST /api/retention/{sub}/{rg}/{name}/purge (shared/retention/purge.py): the raw Workspaces_Delete with
// forceToPurge=true. The GET before it and the Activity Log read that proves the purge are the Inventory Reader's
// (purge scopes lie in watched subscriptions).
var purgeActions = [
  'Microsoft.MachineLearningServices/workspaces/delete'
]

var suffix = '(${environmentName}, ${subscription().subscriptionId})'
var operatorRoleName = 'AML Lifecycle Operator ${suffix}'
var targetRoleName = 'AML Lifecycle Move Target ${suffix}'
var subscriptionRoleName = 'AML Lifecycle Subscription Reader ${suffix}'
var inventoryRoleName = 'AML Lifecycle Inventory Reader ${suffix}'
var purgeRoleName = 'AML Lifecycle Purger ${suffix}'
var operatorActions = concat(moveActions, quiesceActions, datastoreFixActions, roleAssignmentWriteActions, extraActions)
var subscriptionActions = concat(moveSubscriptionActions, quiesceStatusActions)
var targetActions = concat(moveTargetActions, groupCleanupActions)
var hasOperator = !empty(operatorSubscriptionIds)
var hasTarget = !empty(targetSubscriptionIds)
var hasPurge = !empty(purgeSubscriptionIds)

// No managed scope and no move target: no operator role at all (every move is refused anyway).
resource operatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (hasOperator) {
  name: guid(subscription().id, operatorRoleName)
  properties: {
    roleName: operatorRoleName
    description: 'aml-lifecycle: validate and move Azure Machine Learning workspaces (with the enabled features: quiesce, datastore fix, role assignments).'
    type: 'customRole'
    assignableScopes: operatorSubscriptionIds
    permissions: [
      {
        actions: operatorActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource targetRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (hasTarget) {
  name: guid(subscription().id, targetRoleName)
  properties: {
    roleName: targetRoleName
    description: 'aml-lifecycle: receive moved workspaces in a target resource group, create it, clean it up after a failed validation.'
    type: 'customRole'
    assignableScopes: targetSubscriptionIds
    permissions: [
      {
        actions: targetActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource subscriptionRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (hasOperator) {
  name: guid(subscription().id, subscriptionRoleName)
  properties: {
    roleName: subscriptionRoleName
    description: 'aml-lifecycle: subscription-level reads of a move: tenant, provider registration, the status of the operations it started.'
    type: 'customRole'
    assignableScopes: operatorSubscriptionIds
    permissions: [
      {
        actions: subscriptionActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource inventoryRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, inventoryRoleName)
  properties: {
    roleName: inventoryRoleName
    description: 'aml-lifecycle: list Azure Machine Learning workspaces of a watched subscription, read the state of a deleted workspace\'s dependencies and its event wiring.'
    type: 'customRole'
    assignableScopes: watchedScopeIds
    permissions: [
      {
        actions: inventoryActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource purgeRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (hasPurge) {
  name: guid(subscription().id, purgeRoleName)
  properties: {
    roleName: purgeRoleName
    description: 'aml-lifecycle: permanently delete (purge) a soft-deleted Azure Machine Learning workspace on request, where AML_LIFECYCLE_PURGE_SCOPES allows.'
    type: 'customRole'
    assignableScopes: purgeSubscriptionIds
    permissions: [
      {
        actions: purgeActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

// Role ids are the definitions' names (GUIDs): an assignment in another subscription refers to the role
// through its own subscription's path, so the callers pass these and build the id at the assignment scope.
output operatorRoleGuid string = hasOperator ? operatorRole.name : ''
output targetRoleGuid string = hasTarget ? targetRole.name : ''
output subscriptionRoleGuid string = hasOperator ? subscriptionRole.name : ''
output inventoryRoleGuid string = inventoryRole.name
output operatorRoleName string = operatorRoleName
output inventoryRoleName string = inventoryRoleName
output purgeRoleGuid string = hasPurge ? purgeRole.name : ''
