// In the app's resource group: what the policy assignment's identity needs outside the management group's own
// subscriptions, each at the narrowest scope.
// - Managed Identity Operator on the dead-letter identity only: attaching a user-assigned identity to a system
//   topic needs Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action on that identity.
// - An exact custom role on the function app only: Event Grid checks, when an event subscription with an
//   AzureFunction destination is created, that its creator may write to the function (the RBAC check the Event
//   Grid team describes for the Azure Function destination type, Azure/azure-cli#10879); it then fetches the key
//   itself, so no key is ever read here.
param policyPrincipalId string
param deadLetterIdentityName string
param functionAppName string
param environmentName string

var managedIdentityOperator = 'f1a07417-d97a-45cb-824c-7a7467783830' // Managed Identity Operator
var handlerRoleName = 'AML Lifecycle Event Handler Link (${environmentName})'

resource deadLetterIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: deadLetterIdentityName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource identityOperator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterIdentity.id, policyPrincipalId, managedIdentityOperator)
  scope: deadLetterIdentity
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', managedIdentityOperator) // Managed Identity Operator
    principalId: policyPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource handlerRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, handlerRoleName)
  properties: {
    roleName: handlerRoleName
    description: 'aml-lifecycle: let policy remediation point event subscriptions at the workspace_events function.'
    type: 'customRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Web/sites/read'
          'Microsoft.Web/sites/functions/read'
          'Microsoft.Web/sites/functions/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource handlerLink 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(functionApp.id, policyPrincipalId, handlerRole.id)
  scope: functionApp
  properties: {
    roleDefinitionId: handlerRole.id
    principalId: policyPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output handlerRoleId string = handlerRole.id
