// Custom roles defined at the management group, each listing its exact actions (no wildcard).
// - wiring: what the policy assignment's identity needs to run the DeployIfNotExists deployments of
//   policy-definitions.bicep in any subscription below the group (ARM deployments, the events resource group,
//   the system topic and its event subscription). Attaching the dead-letter identity is granted separately, on
//   that identity only (built-in Managed Identity Operator, see main.bicep).
// - inventory: what the app needs below the group: the Inventory Reader's actions (infra/app/role-definition.bicep,
//   the same list: tests/infra/test_permissions.py) and the group's descendants (discovery).
targetScope = 'managementGroup'

param environmentName string

var wiringRoleName = 'AML Lifecycle Event Wiring (${environmentName})'
var inventoryRoleName = 'AML Lifecycle Fleet Inventory Reader (${environmentName})'

// The Inventory Reader's actions (infra/app/role-definition.bicep, inventoryActions), for every subscription below.
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
  'Microsoft.Insights/eventtypes/values/read' // Activity Log: the backfill's and the name check's reads of deletes
]
// Discovery: the group's descendant subscriptions (watchScope = a management group).
var fleetActions = [
  'Microsoft.Management/managementGroups/descendants/read'
]
var fleetInventoryActions = concat(inventoryActions, fleetActions)

resource wiringRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(managementGroup().id, wiringRoleName)
  properties: {
    roleName: wiringRoleName
    description: 'aml-lifecycle: policy remediation creates the subscription system topic and the workspace events subscription.'
    type: 'customRole'
    assignableScopes: [
      managementGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Resources/subscriptions/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.Resources/subscriptions/resourceGroups/write'
          'Microsoft.Resources/deployments/read'
          'Microsoft.Resources/deployments/write'
          'Microsoft.Resources/deployments/validate/action'
          'Microsoft.Resources/deployments/operations/read'
          'Microsoft.Resources/deployments/operationstatuses/read'
          'Microsoft.EventGrid/systemTopics/read'
          'Microsoft.EventGrid/systemTopics/write'
          'Microsoft.EventGrid/systemTopics/eventSubscriptions/read'
          'Microsoft.EventGrid/systemTopics/eventSubscriptions/write'
          // Event Grid checks this on the event source (the subscription) when a subscription to its system topic
          // is created (learn.microsoft.com/azure/event-grid/security-authorization, "Permissions for event
          // subscriptions").
          'Microsoft.EventGrid/eventSubscriptions/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource inventoryRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(managementGroup().id, inventoryRoleName)
  properties: {
    roleName: inventoryRoleName
    description: 'aml-lifecycle: list the subscriptions and ML workspaces below the management group and read their event wiring.'
    type: 'customRole'
    assignableScopes: [
      managementGroup().id
    ]
    permissions: [
      {
        actions: fleetInventoryActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

output wiringRoleId string = wiringRole.id
output wiringRoleGuid string = wiringRole.name
output inventoryRoleId string = inventoryRole.id
output inventoryRoleGuid string = inventoryRole.name
output inventoryRoleName string = inventoryRoleName
