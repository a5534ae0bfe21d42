// Custom roles defined at the management group, each listing its exact actions (no wildcard).
// - wiring: what the policy assignment's identity needs to run the DeployIfNotExists deployments of
//   policy-definitions.bicep in any subscription below the group (ARM deployments, the events resource group,
//   the system topic and its event subscription). Attaching the dead-letter identity is granted separately, on
//   that identity only (built-in Managed Identity Operator, see main.bicep).
// - inventory: what the app needs below the group: list workspaces (backfill), read each subscription's system
//   topic and its event subscriptions (GET /api/coverage), list the group's descendants (discovery).
targetScope = 'managementGroup'

param environmentName string

var wiringRoleName = 'AML Lifecycle Event Wiring (${environmentName})'
var inventoryRoleName = 'AML Lifecycle Fleet Inventory Reader (${environmentName})'

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
        actions: [
          'Microsoft.Management/managementGroups/read'
          'Microsoft.Management/managementGroups/descendants/read'
          'Microsoft.Resources/subscriptions/read'
          'Microsoft.Resources/subscriptions/resources/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.MachineLearningServices/workspaces/read'
          'Microsoft.EventGrid/systemTopics/read'
          'Microsoft.EventGrid/systemTopics/eventSubscriptions/read'
          'Microsoft.Insights/eventtypes/values/read' // Activity Log: the backfill's and the name check's reads of deletes
        ]
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
