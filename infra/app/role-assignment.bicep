// Assigns one role to one principal at one scope: a subscription, or a resource group of it (then
// through role-assignment-rg.bicep). Deployed at the scope's subscription.
targetScope = 'subscription'

@description('/subscriptions/<id> or /subscriptions/<id>/resourceGroups/<name>')
param scopeId string
@description('Name (GUID) of the role definition; the id is built in the scope\'s own subscription.')
param roleDefinitionGuid string
param principalId string
@description('\'ok\', or the sentence saying why this scope is refused: it then fails the deployment with that text.')
@allowed([
  'ok'
])
param scopeCheck string = 'ok'

var isResourceGroup = contains(toLower(scopeId), '/resourcegroups/')
var scopeParts = split(scopeId, '/')
var roleDefinitionId = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)

resource subscriptionAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!isResourceGroup) {
  name: guid(subscription().id, principalId, roleDefinitionId)
  properties: {
    roleDefinitionId: roleDefinitionId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

module resourceGroupAssignment 'role-assignment-rg.bicep' = if (isResourceGroup) {
  name: 'ra-${uniqueString(scopeId, principalId, roleDefinitionGuid)}'
  scope: resourceGroup(isResourceGroup ? scopeParts[4] : 'unused')
  params: {
    roleDefinitionGuid: roleDefinitionGuid
    principalId: principalId
  }
}
