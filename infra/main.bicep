// aml-lifecycle: everything the function app needs, identity-first and least privilege.
// Deployed by azd (azure.yaml) at subscription scope; see docs/deploy.md for the walk-through.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the unique token in every resource name.')
param environmentName string

@minLength(1)
@description('Region of the app\'s resources (Flex Consumption must be available there).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

// ---- names: abbreviation + token by default, each overridable -------------------------------------
param resourceGroupName string = ''
param functionAppName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param userAssignedIdentityName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''
param alertsTopicName string = ''
@description('Resource group created in every watched subscription to hold its Event Grid system topic.')
param eventsResourceGroupName string = ''
param systemTopicName string = ''
param actionGroupName string = ''

// ---- what the app watches and may touch ------------------------------------------------------------
@description('Subscription ids whose ML workspace events feed the retention ledger and whose workspaces the inventory backfill lists. Empty: the deployment subscription.')
param watchedSubscriptionIds array = []
@description('Where moves start or land: subscription ids or resource-group ids (/subscriptions/<id>/resourceGroups/<name>). The custom operator role is assigned at each.')
param managedScopes array = []
@description('Subscription ids or resource-group ids a move may target (AML_LIFECYCLE_ALLOWED_TARGETS). Empty: every move is refused. The operator role is assigned at each too.')
param moveTargetScopes array = []
@description('Grant Microsoft.Authorization/roleAssignments/write so workspace-scope role assignments can be re-created after a move. Off by default.')
param allowRoleAssignmentWrite bool = false
@description('Exact extra actions for the operator role (no wildcards), for tenant-specific move requirements.')
param extraRoleActions array = []

// ---- app behaviour (docs/settings.md) ---------------------------------------------------------------------
param alertDays string = '7,3,1'
@minValue(1)
@maxValue(14)
param defaultRetentionDays int = 14
@description('NCRONTAB (6 fields) of the retention sweep.')
param sweepSchedule string = '0 0 * * * *'
@description('NCRONTAB (6 fields) of the daily inventory backfill (picks up subscriptions created since the last run).')
param backfillSchedule string = '0 30 3 * * *'
@description('Fleet-wide watch (docs/subscriptions.md): \'*\' or a management group id (/providers/Microsoft.Management/managementGroups/<name>, wired by infra/mg/main.bicep). Empty: the listed watchedSubscriptionIds.')
param watchScope string = ''
@description('Hour (UTC, 0-23) of the optional daily digest; empty: no digest.')
param digestHourUtc string = ''

// ---- operating it (docs/operations.md) ---------------------------------------------------------------
@description('Email address the alert rules notify (action group); empty: alerts show in the portal only.')
param alertEmail string = ''
@minValue(5)
@maxValue(1440)
@description('Minutes between two runs of sweepSchedule; the sweep-heartbeat alert fires after twice that.')
param sweepIntervalMinutes int = 60

// ---- Event Grid delivery ---------------------------------------------------------------------------
@description('Create the event subscriptions. The post-deploy hook turns this on once workspace_events exists.')
param deployEventSubscriptions bool = false
@minValue(1)
@maxValue(30)
param eventMaxDeliveryAttempts int = 30
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

// ---- hosting -----------------------------------------------------------------------------------------
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_LRS'
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional: object id of an operator (user or group) given read access to the tables and dead letters.')
param principalId string = ''
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'aml-lifecycle'
}

var rgName = !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
var appName = !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}api-${resourceToken}'
var planName = !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
var stName = !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
var idName = !empty(userAssignedIdentityName) ? userAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
var logName = !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
var appiName = !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
var topicName = !empty(alertsTopicName) ? alertsTopicName : '${abbrs.eventGridTopics}alerts-${resourceToken}'
var eventsRgName = !empty(eventsResourceGroupName) ? eventsResourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}-aml-events'
var egstName = !empty(systemTopicName) ? systemTopicName : '${abbrs.eventGridSystemTopics}aml-${resourceToken}'
var agName = !empty(actionGroupName) ? actionGroupName : '${abbrs.insightsActionGroups}${resourceToken}'
var deploymentContainerName = 'app-package-${take(appName, 32)}-${take(resourceToken, 7)}'
var deadLetterContainerName = 'eventgrid-deadletter'
var tableNames = [
  'WorkspaceRetention'
  'WorkspaceMoves'
  'WorkspaceInventory'
  'RetentionSchedule'
  'RetentionReconcile'
]

var watched = empty(watchedSubscriptionIds) ? [
  subscription().subscriptionId
] : watchedSubscriptionIds
var watchedScopeIds = [for subscriptionId in watched: '/subscriptions/${subscriptionId}']
var managedScopeIds = [for scope in managedScopes: startsWith(scope, '/') ? scope : '/subscriptions/${scope}']
var targetScopeIds = [for scope in moveTargetScopes: startsWith(scope, '/') ? scope : '/subscriptions/${scope}']
var operatorScopeIds = union(managedScopeIds, targetScopeIds)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: rgName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: idName
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: stName
    location: location
    tags: tags
    skuName: storageSkuName
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    tableNames: tableNames
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: logName
    applicationInsightsName: appiName
    location: location
    tags: tags
  }
}

module alertsTopic 'app/alerts-topic.bicep' = {
  name: 'alerts-topic'
  scope: rg
  params: {
    name: topicName
    location: location
    tags: tags
  }
}

// The app's own settings (docs/settings.md): endpoints only, never a key; the identity is picked by AZURE_CLIENT_ID.
var digestSettings = empty(digestHourUtc) ? {} : {
  AML_LIFECYCLE_DIGEST_HOUR_UTC: digestHourUtc
}
var lifecycleSettings = {
  AML_LIFECYCLE_TABLES: storage.outputs.tableEndpoint
  AML_LIFECYCLE_ARM_ENDPOINT: environment().resourceManager
  AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT: alertsTopic.outputs.endpoint
  AML_LIFECYCLE_ALLOWED_TARGETS: join(targetScopeIds, ',')
  AML_LIFECYCLE_ALERT_DAYS: alertDays
  AML_LIFECYCLE_DEFAULT_RETENTION_DAYS: string(defaultRetentionDays)
  AML_LIFECYCLE_SWEEP_SCHEDULE: sweepSchedule
  AML_LIFECYCLE_BACKFILL_SCHEDULE: backfillSchedule
  AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS: empty(watchScope) ? join(watched, ',') : watchScope
}

module api 'app/function-app.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: appName
    planName: planName
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: union(lifecycleSettings, digestSettings)
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
  dependsOn: [
    rbac // the host must be able to reach its storage when it first starts
  ]
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    alertsTopicName: alertsTopic.outputs.name
    appPrincipalId: identity.outputs.principalId
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
  }
}

// ---- ARM permissions: custom roles, assigned at the given scopes only ------------------------------
module roles 'app/role-definition.bicep' = {
  name: 'roles-${resourceToken}'
  params: {
    environmentName: environmentName
    managedScopeIds: operatorScopeIds
    watchedScopeIds: watchedScopeIds
    allowRoleAssignmentWrite: allowRoleAssignmentWrite
    extraActions: extraRoleActions
  }
}

module operatorAssignments 'app/role-assignment.bicep' = [for (scopeId, i) in operatorScopeIds: {
  name: 'operator-${uniqueString(scopeId, resourceToken)}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    scopeId: scopeId
    roleDefinitionGuid: roles.outputs.operatorRoleGuid
    principalId: identity.outputs.principalId
  }
}]

module inventoryAssignments 'app/role-assignment.bicep' = [for (subscriptionId, i) in watched: {
  name: 'inventory-${uniqueString(subscriptionId, resourceToken)}'
  scope: subscription(subscriptionId)
  params: {
    scopeId: '/subscriptions/${subscriptionId}'
    roleDefinitionGuid: roles.outputs.inventoryRoleGuid
    principalId: identity.outputs.principalId
  }
}]

// ---- Event Grid: one system topic per watched subscription, dead letters in our storage -----------
module subscriptionEvents 'app/subscription-events.bicep' = [for (subscriptionId, i) in watched: {
  name: 'aml-events-${uniqueString(subscriptionId, resourceToken)}'
  scope: subscription(subscriptionId)
  params: {
    resourceGroupName: eventsRgName
    location: location
    systemTopicName: egstName
    tags: tags
  }
}]

module deadLetterRbac 'app/deadletter-rbac.bicep' = [for (subscriptionId, i) in watched: {
  name: 'deadletter-rbac-${uniqueString(subscriptionId, resourceToken)}'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    systemTopicPrincipalId: subscriptionEvents[i].outputs.systemTopicPrincipalId
  }
}]

module eventSubscriptions 'app/event-subscription.bicep' = [for (subscriptionId, i) in watched: {
  name: 'aml-events-sub-${uniqueString(subscriptionId, resourceToken)}'
  scope: resourceGroup(subscriptionId, eventsRgName)
  params: {
    enabled: deployEventSubscriptions
    systemTopicName: subscriptionEvents[i].outputs.systemTopicName
    functionResourceId: api.outputs.workspaceEventsFunctionId
    deadLetterStorageAccountId: storage.outputs.id
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    maxDeliveryAttempts: eventMaxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
  dependsOn: [
    deadLetterRbac
  ]
}]

// ---- operating it: action group, log alerts, workbook; a dead-letter alert beside each system topic ---
module operations 'app/operations.bicep' = {
  name: 'operations'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    actionGroupName: agName
    alertEmail: alertEmail
    sweepIntervalMinutes: sweepIntervalMinutes
  }
}

module deadLetterAlerts 'app/deadletter-alert.bicep' = [for (subscriptionId, i) in watched: {
  name: 'deadletter-alert-${uniqueString(subscriptionId, resourceToken)}'
  scope: resourceGroup(subscriptionId, eventsRgName)
  params: {
    systemTopicName: subscriptionEvents[i].outputs.systemTopicName
    actionGroupId: operations.outputs.actionGroupId
    tags: tags
  }
}]

// ---- outputs for azd (.azure/<env>/.env) and the hooks: names and endpoints, never a secret --------
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_APP_ID string = api.outputs.id
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostName}'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_EVENTGRID_DEADLETTER_CONTAINER string = storage.outputs.deadLetterContainerName
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT string = alertsTopic.outputs.endpoint
output AML_LIFECYCLE_ALERTS_TOPIC_ID string = alertsTopic.outputs.id
output AML_LIFECYCLE_ALERTS_TOPIC_PRINCIPAL_ID string = alertsTopic.outputs.principalId
output AML_LIFECYCLE_OPERATOR_ROLE_NAME string = roles.outputs.operatorRoleName
output AML_LIFECYCLE_INVENTORY_ROLE_NAME string = roles.outputs.inventoryRoleName
output AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS string = empty(watchScope) ? join(watched, ',') : watchScope
output AML_LIFECYCLE_ALLOWED_TARGETS string = join(targetScopeIds, ',')
output AZURE_EVENTS_RESOURCE_GROUP string = eventsRgName
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = egstName
output DEPLOY_EVENT_SUBSCRIPTIONS bool = deployEventSubscriptions
output AZURE_MONITOR_WORKBOOK_ID string = operations.outputs.workbookId
