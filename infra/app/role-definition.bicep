// The app's two custom roles, defined once in the deployment subscription and assignable at the scopes
// the app works on. Every action is listed exactly (no wildcard); docs/deploy.md says why each is needed.
targetScope = 'subscription'

@description('Used to make the role names and ids unique per azd environment.')
param environmentName string
@description('Full ids (/subscriptions/<id> or /subscriptions/<id>/resourceGroups/<rg>) where moves start or land.')
param managedScopeIds array
@description('Full ids (/subscriptions/<id>) of the subscriptions whose workspaces are inventoried.')
param watchedScopeIds array
@description('Add Microsoft.Authorization/roleAssignments/write so the app may re-create workspace-scope role assignments after a move. Off by default: it lets the identity grant roles.')
param allowRoleAssignmentWrite bool = false
@description('Exact extra actions for tenant-specific move needs (e.g. a subnet join/action a private endpoint move asks for). No wildcards.')
param extraActions array = []
@description('Full ids (/subscriptions/<id> or /subscriptions/<id>/resourceGroups/<rg>) where POST .../purge may permanently delete a soft-deleted workspace (AML_LIFECYCLE_PURGE_SCOPES). Empty: no purge role.')
param purgeScopeIds array = []

// Resource Manager: read the scopes, check providers, validate and run moves, create the target group.
var resourceManagerActions = [
  'Microsoft.Resources/subscriptions/read'
  'Microsoft.Resources/subscriptions/providers/read'
  'Microsoft.Resources/subscriptions/resourceGroups/read'
  'Microsoft.Resources/subscriptions/resourceGroups/write'
  'Microsoft.Resources/subscriptions/resourceGroups/resources/read'
  'Microsoft.Resources/subscriptions/resourceGroups/validateMoveResources/action'
  'Microsoft.Resources/subscriptions/resourceGroups/moveResources/action'
]

// Azure Machine Learning: preflight reads, the move itself, private endpoint approval, datastore repair.
var machineLearningActions = [
  'Microsoft.MachineLearningServices/workspaces/read'
  'Microsoft.MachineLearningServices/workspaces/write'
  'Microsoft.MachineLearningServices/workspaces/delete'
  'Microsoft.MachineLearningServices/workspaces/computes/read'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read'
  'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/read'
  'Microsoft.MachineLearningServices/workspaces/batchEndpoints/read'
  'Microsoft.MachineLearningServices/workspaces/jobs/read'
  'Microsoft.MachineLearningServices/workspaces/labeling/projects/read'
  'Microsoft.MachineLearningServices/workspaces/datastores/read'
  'Microsoft.MachineLearningServices/workspaces/datastores/write'
  'Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action'
  'Microsoft.MachineLearningServices/workspaces/privateEndpointConnections/read'
  'Microsoft.MachineLearningServices/workspaces/privateEndpointConnections/write'
  'Microsoft.MachineLearningServices/workspaces/privateEndpointConnectionsApproval/action'
]

// The workspace's dependent resources move with it: ARM needs write and delete on each moved resource.
var dependentResourceActions = [
  'Microsoft.Storage/storageAccounts/read'
  'Microsoft.Storage/storageAccounts/write'
  'Microsoft.Storage/storageAccounts/delete'
  'Microsoft.KeyVault/vaults/read'
  'Microsoft.KeyVault/vaults/write'
  'Microsoft.KeyVault/vaults/delete'
  'Microsoft.Insights/components/read'
  'Microsoft.Insights/components/write'
  'Microsoft.Insights/components/delete'
  'Microsoft.ContainerRegistry/registries/read'
  'Microsoft.ContainerRegistry/registries/write'
  'Microsoft.ContainerRegistry/registries/delete'
  'Microsoft.Network/privateEndpoints/read'
  'Microsoft.Network/privateEndpoints/write'
  'Microsoft.Network/privateEndpoints/delete'
]

// Preflight: Databricks links and the role assignments that a move leaves behind.
var relatedReadActions = [
  'Microsoft.Databricks/workspaces/read'
  'Microsoft.Authorization/roleAssignments/read'
]

var roleAssignmentWriteActions = allowRoleAssignmentWrite ? [
  'Microsoft.Authorization/roleAssignments/write'
] : []

var operatorRoleName = 'AML Lifecycle Operator (${environmentName})'
var inventoryRoleName = 'AML Lifecycle Inventory Reader (${environmentName})'

// No managed scope and no move target: no operator role at all (every move is refused anyway).
resource operatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(managedScopeIds)) {
  name: guid(subscription().id, operatorRoleName)
  properties: {
    roleName: operatorRoleName
    description: 'aml-lifecycle: validate and move Azure Machine Learning workspaces, approve their private endpoints, repair datastores.'
    type: 'customRole'
    assignableScopes: managedScopeIds
    permissions: [
      {
        actions: concat(resourceManagerActions, machineLearningActions, dependentResourceActions, relatedReadActions, roleAssignmentWriteActions, extraActions)
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
    description: 'aml-lifecycle: list Azure Machine Learning workspaces of a watched subscription (inventory backfill, reconciliation), read the state of a deleted workspace\'s dependencies and read its event wiring (coverage report).'
    type: 'customRole'
    assignableScopes: watchedScopeIds
    permissions: [
      {
        actions: [
          'Microsoft.Resources/subscriptions/read'
          'Microsoft.Resources/subscriptions/resources/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.MachineLearningServices/workspaces/read'
          // Recovery report of a soft-deleted workspace (docs/deploy.md says why each is needed).
          'Microsoft.KeyVault/vaults/read'
          'Microsoft.Storage/storageAccounts/read'
          'Microsoft.ContainerRegistry/registries/read'
          'Microsoft.Insights/components/read'
          'Microsoft.OperationalInsights/workspaces/read'
          'Microsoft.KeyVault/deletedVaults/read'
          'Microsoft.Storage/deletedAccounts/read'
          'Microsoft.OperationalInsights/deletedWorkspaces/read'
          'Microsoft.EventGrid/systemTopics/read' // GET /api/coverage: the subscription's system topic
          'Microsoft.EventGrid/systemTopics/eventSubscriptions/read' // and its event subscriptions
          // ActivityLogs_List (shared/azure/activity_log.py): the backfill and the name check read workspace deletes
          'Microsoft.Insights/eventtypes/values/read'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

var purgeRoleName = 'AML Lifecycle Purger (${environmentName})'

// POST /api/retention/{sub}/{rg}/{name}/purge (shared/retention/purge.py): the raw Workspaces_Delete with
// forceToPurge=true, the GET before it, and the Activity Log read that proves the purge. Only where purge is allowed.
resource purgeRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(purgeScopeIds)) {
  name: guid(subscription().id, purgeRoleName)
  properties: {
    roleName: purgeRoleName
    description: 'aml-lifecycle: permanently delete (purge) a soft-deleted Azure Machine Learning workspace on request, where AML_LIFECYCLE_PURGE_SCOPES allows.'
    type: 'customRole'
    assignableScopes: purgeScopeIds
    permissions: [
      {
        actions: [
          'Microsoft.MachineLearningServices/workspaces/read'
          'Microsoft.MachineLearningServices/workspaces/delete'
          'Microsoft.Insights/eventtypes/values/read'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

// Role ids are the definitions' names (GUIDs): an assignment in another subscription refers to the role
// through its own subscription's path, so the callers pass these and build the id at the assignment scope.
output operatorRoleGuid string = empty(managedScopeIds) ? '' : operatorRole.name
output inventoryRoleGuid string = inventoryRole.name
output operatorRoleName string = operatorRoleName
output inventoryRoleName string = inventoryRoleName
output purgeRoleGuid string = empty(purgeScopeIds) ? '' : purgeRole.name
