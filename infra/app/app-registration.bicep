// Microsoft Entra sign-in (docs/auth.md), part 1: the app registration with the app roles, its service principal
// (only assigned principals get tokens), role assignments for the deployer and the pipeline. Part 2, App Service
// Authentication on the function app, is app/auth.bicep.
// Created with the Microsoft Graph Bicep extension (bicepconfig.json; learn.microsoft.com/graph/templates): the
// registration is declared, idempotent by uniqueName, and deployed by `azd up` with the deployer's own rights
// (Application.ReadWrite.All delegated, which a default tenant grants any member for apps they own). Where members
// may not register apps, an admin creates one and main.bicep's authClientId references it instead (docs/deploy.md, "Sign-in").
extension microsoftGraphV1

@description('uniqueName of the app registration (kept across deployments).')
param registrationName string
param displayName string = registrationName
@description('Object ids given every role except Moves.Execute and Retention.Purge: the deployer, by default.')
param readerPrincipalIds array = []
@description('Object id of the pipeline\'s service principal (OIDC federated; no secret) and the roles it gets.')
param pipelinePrincipalId string = ''
param pipelineRoles array = [
  'Moves.Validate'
  'Moves.Execute'
  'Retention.Read'
]

// The app roles the routes name (handlers/http.py `@api(role=...)`, docs/auth.md). Users and applications.
var roles = [
  { value: 'Retention.Read', name: 'Read retention', text: 'Read the retention ledger, names, coverage and health.' }
  { value: 'Moves.Validate', name: 'Validate moves', text: 'Validate a workspace move and read validations and moves.' }
  { value: 'Moves.Execute', name: 'Execute moves', text: 'Start and cancel workspace moves, and read them.' }
  { value: 'Retention.Purge', name: 'Purge soft-deleted workspaces', text: 'Purge a soft-deleted workspace now.' }
  { value: 'Inventory.Backfill', name: 'Backfill the inventory', text: 'Run the inventory backfill on demand.' }
]
var readerRoles = [
  'Retention.Read'
  'Moves.Validate'
]
var identifierUri = 'api://${tenant().tenantId}/${registrationName}'

resource registration 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: registrationName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  api: {
    requestedAccessTokenVersion: 2 // v2.0 tokens: issuer login.microsoftonline.com/<tenant>/v2.0, aud = client id
  }
  appRoles: [for role in roles: {
    id: guid(registrationName, role.value)
    value: role.value
    displayName: role.name
    description: role.text
    allowedMemberTypes: [
      'User'
      'Application'
    ]
    isEnabled: true
  }]
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: registration.appId
  appRoleAssignmentRequired: true // only assigned users and apps get a token for the app
}

resource readers 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for pair in flatten(map(readerPrincipalIds, p => map(readerRoles, r => { principal: p, role: r }))): {
  appRoleId: guid(registrationName, pair.role)
  principalId: pair.principal
  resourceId: servicePrincipal.id
}]

resource pipeline 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for role in (empty(pipelinePrincipalId) ? [] : pipelineRoles): {
  appRoleId: guid(registrationName, role)
  principalId: pipelinePrincipalId
  resourceId: servicePrincipal.id
}]

output clientId string = registration.appId
output identifierUri string = identifierUri
output apiScope string = '${identifierUri}/.default'
output servicePrincipalId string = servicePrincipal.id
