// aml-lifecycle: everything the function app needs, identity-first and least privilege.
// Deployed by azd (azure.yaml) at subscription scope; see docs/deploy.md for the walk-through.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the unique token in every resource name.')
param environmentName string

@minLength(1)
@description('Region of the app\'s resources: one where Flex Consumption is available (the list of the azd Flex Consumption templates).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
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
@description('Where moves start: resource-group ids (/subscriptions/<id>/resourceGroups/<name>). A subscription id (wide: every group in it) only with allowSubscriptionScopes. The Operator role is assigned at each.')
param managedScopes array = []
@description('Where moves may land (AML_LIFECYCLE_ALLOWED_TARGETS): resource-group ids; subscription ids only with allowSubscriptionScopes. Empty: every move is refused. The Operator and Move Target roles are assigned at each.')
param moveTargetScopes array = []
@description('Accept subscription ids in managedScopes / moveTargetScopes. Wide: the roles then cover every resource group of the subscription. Off by default.')
param allowSubscriptionScopes bool = false
@description('Grant quiesce: delete / re-create computes, online endpoints and deployments, cancel jobs, read their operation statuses. Off by default.')
param allowQuiesce bool = false
@description('Grant the datastore fix after a move: datastores write / delete and listsecrets (key-based datastores). On by default, as the move field fixDatastores.')
param allowDatastoreFix bool = true
@description('Grant the clean-up of a target resource group a failed validation created (resourceGroups/delete at the target scopes). Off by default.')
param allowTargetGroupCleanup bool = false
@description('Grant Microsoft.Authorization/roleAssignments/write so workspace-scope role assignments can be re-created after a move. Off by default.')
param allowRoleAssignmentWrite bool = false
@description('Exact extra actions for the operator role (no wildcards), for tenant-specific move requirements.')
param extraRoleActions array = []
@description('Subscription ids or resource-group ids where POST .../purge may permanently delete a soft-deleted workspace (AML_LIFECYCLE_PURGE_SCOPES). Empty: purge is disabled and no purge role exists.')
param purgeScopes array = []

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
@description('Ids of the existing Microsoft.Resources.Subscriptions system topics of watched subscriptions (one per subscription at most): the event subscription is added to it instead of creating a topic.')
param existingSystemTopicIds array = []
@description('Create the event subscriptions. The post-deploy hook turns this on once workspace_events exists.')
param deployEventSubscriptions bool = false
@minValue(1)
@maxValue(30)
param eventMaxDeliveryAttempts int = 30
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

// ---- sign-in (docs/auth.md) and alerts to a person (docs/alerts.md) ----------------------------------
@allowed([
  'entra'
  'keys'
])
@description('AML_LIFECYCLE_AUTH: entra (app registration with app roles + App Service Authentication) or keys.')
param authMode string = 'entra'
@description('Client id of an existing app registration to use (an admin created it); empty: the deployment creates one.')
param authClientId string = ''
@description('Object id of the pipeline\'s service principal (OIDC federated credential, no secret) given pipelineRoles.')
param pipelinePrincipalId string = ''
param pipelineRoles array = [
  'Moves.Validate'
  'Moves.Execute'
  'Retention.Read'
]
@secure()
@description('Teams Workflows or Slack incoming-webhook URL every alert is posted to as a readable card; empty: none.')
param alertWebhookUrl string = ''
@description('Where docs/ is published (links in the alert cards); empty: the cards name the repository paths.')
param runbookUrl string = ''

// ---- hosting -----------------------------------------------------------------------------------------
@allowed([
  ''
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
@description('Storage redundancy of the ledger account; empty: Standard_ZRS where the region has availability zones, else Standard_LRS.')
param storageSkuName string = ''
@description('CanNotDelete lock on the ledger\'s storage account (remove it before azd down: docs/deploy.md).')
param protectLedger bool = true
@description('VNet integration for the function app; storage (blob, queue, table) and the alerts topic behind private endpoints. The function\'s own endpoint stays public so Event Grid can deliver (docs/deploy.md, networking).')
param vnetEnabled bool = false
@description('With vnetEnabled: restrict the function app\'s inbound traffic to the AzureEventGrid service tag and these CIDR ranges (the CI callers of the API).')
param restrictInbound bool = false
param inboundAllowedIpRanges array = []
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
var vnetName = '${abbrs.networkVirtualNetworks}${resourceToken}'
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

// Regions (of the list above) with availability zones: the ledger's account is zone-redundant there by default.
var zoneRegions = [
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus2'
  'westus3'
]
var ledgerSku = !empty(storageSkuName) ? storageSkuName : (contains(zoneRegions, location) ? 'Standard_ZRS' : 'Standard_LRS')

var watched = empty(watchedSubscriptionIds) ? [
  subscription().subscriptionId
] : watchedSubscriptionIds
var watchedScopeIds = [for subscriptionId in watched: '/subscriptions/${subscriptionId}']
// Per watched subscription (same order): the id of its existing system topic from existingSystemTopicIds, or ''.
var existingTopicsText = '|${toLower(join(existingSystemTopicIds, '|'))}|'
var watchedTopicIds = [for subscriptionId in watched: contains(existingTopicsText, '|/subscriptions/${toLower(subscriptionId)}/') ? '/subscriptions/${toLower(subscriptionId)}/${split(split(existingTopicsText, '|/subscriptions/${toLower(subscriptionId)}/')[1], '|')[0]}' : '']
var managedScopeIds = [for scope in managedScopes: startsWith(scope, '/') ? scope : '/subscriptions/${scope}']
var targetScopeIds = [for scope in moveTargetScopes: startsWith(scope, '/') ? scope : '/subscriptions/${scope}']
var operatorScopeIds = union(managedScopeIds, targetScopeIds)
// The subscriptions holding the scopes: the roles' assignable scopes and where operation statuses are read.
var operatorSubscriptionList = [for scope in operatorScopeIds: '/subscriptions/${split(scope, '/')[2]}']
var targetSubscriptionList = [for scope in targetScopeIds: '/subscriptions/${split(scope, '/')[2]}']
var operatorSubscriptionIds = union(operatorSubscriptionList, []) // union drops the duplicates
var targetSubscriptionIds = union(targetSubscriptionList, [])
var purgeScopeIds = [for scope in purgeScopes: startsWith(scope, '/') ? scope : '/subscriptions/${scope}']
var purgeSubscriptionList = [for scope in purgeScopeIds: '/subscriptions/${split(scope, '/')[2]}']
var purgeSubscriptionIds = union(purgeSubscriptionList, [])

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
    skuName: ledgerSku
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    tableNames: tableNames
    vnetEnabled: vnetEnabled
    protectLedger: protectLedger
    logAnalyticsId: monitoring.outputs.logAnalyticsId
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
    vnetEnabled: vnetEnabled
  }
}

// vnetEnabled: outbound through a VNet, storage and the alerts topic behind private endpoints; inbound stays
// public for Event Grid (docs/deploy.md, networking).
module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: vnetName
    location: location
    tags: tags
    storageAccountId: storage.outputs.id
    alertsTopicId: alertsTopic.outputs.id
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
  AML_LIFECYCLE_PURGE_SCOPES: join(purgeScopeIds, ',')
  AML_LIFECYCLE_ALERT_DAYS: alertDays
  AML_LIFECYCLE_DEFAULT_RETENTION_DAYS: string(defaultRetentionDays)
  AML_LIFECYCLE_SWEEP_SCHEDULE: sweepSchedule
  AML_LIFECYCLE_BACKFILL_SCHEDULE: backfillSchedule
  AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS: empty(watchScope) ? join(watched, ',') : watchScope
  AML_LIFECYCLE_AUTH: authMode
  AML_LIFECYCLE_RUNBOOK_URL: runbookUrl
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
    secretAppSettings: empty(alertWebhookUrl) ? {} : {
      AML_LIFECYCLE_NOTIFY_WEBHOOK_URL: alertWebhookUrl
    }
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    virtualNetworkSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
    restrictInbound: restrictInbound
    inboundAllowedIpRanges: inboundAllowedIpRanges
    logAnalyticsId: monitoring.outputs.logAnalyticsId
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

// ---- ARM permissions: custom roles per feature (shared/azure/permissions.py), assigned at the given scopes -------
module roles 'app/role-definition.bicep' = {
  name: 'roles-${resourceToken}'
  params: {
    environmentName: environmentName
    operatorSubscriptionIds: operatorSubscriptionIds
    targetSubscriptionIds: targetSubscriptionIds
    watchedScopeIds: watchedScopeIds
    allowQuiesce: allowQuiesce
    allowDatastoreFix: allowDatastoreFix
    allowTargetGroupCleanup: allowTargetGroupCleanup
    allowRoleAssignmentWrite: allowRoleAssignmentWrite
    extraActions: extraRoleActions
    purgeSubscriptionIds: purgeSubscriptionIds
  }
}

// A subscription-id scope is refused unless allowSubscriptionScopes says it is meant (the module's
// @allowed(['ok']) turns the sentence into the deployment error).
module operatorAssignments 'app/role-assignment.bicep' = [for (scopeId, i) in operatorScopeIds: {
  name: 'operator-${uniqueString(scopeId, resourceToken)}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    scopeId: scopeId
    roleDefinitionGuid: roles.outputs.operatorRoleGuid
    principalId: identity.outputs.principalId
    scopeCheck: allowSubscriptionScopes || contains(toLower(scopeId), '/resourcegroups/') ? 'ok' : 'scope ${scopeId} is a whole subscription: name its resource groups, or set allowSubscriptionScopes (AML_ALLOW_SUBSCRIPTION_SCOPES=true, docs/deploy.md)'
  }
}]

module targetAssignments 'app/role-assignment.bicep' = [for (scopeId, i) in targetScopeIds: {
  name: 'target-${uniqueString(scopeId, resourceToken)}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    scopeId: scopeId
    roleDefinitionGuid: roles.outputs.targetRoleGuid
    principalId: identity.outputs.principalId
    scopeCheck: allowSubscriptionScopes || contains(toLower(scopeId), '/resourcegroups/') ? 'ok' : 'scope ${scopeId} is a whole subscription: name its resource groups, or set allowSubscriptionScopes (AML_ALLOW_SUBSCRIPTION_SCOPES=true, docs/deploy.md)'
  }
}]

// Subscription-level reads: the subscription, its providers, operation statuses (/operationresults/..., .../locations/...).
module subscriptionAssignments 'app/role-assignment.bicep' = [for (scopeId, i) in operatorSubscriptionIds: {
  name: 'subscription-${uniqueString(scopeId, resourceToken)}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    scopeId: scopeId
    roleDefinitionGuid: roles.outputs.subscriptionRoleGuid
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

module purgeAssignments 'app/role-assignment.bicep' = [for (scopeId, i) in purgeScopeIds: {
  name: 'purge-${uniqueString(scopeId, resourceToken)}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    scopeId: scopeId
    roleDefinitionGuid: roles.outputs.purgeRoleGuid
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
    existingSystemTopicId: watchedTopicIds[i]
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
  scope: resourceGroup(subscriptionId, empty(watchedTopicIds[i]) ? eventsRgName : split(watchedTopicIds[i], '/')[4])
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

// ---- sign-in: app registration + App Service Authentication (entra); alerts to a person's webhook ----
module appRegistration 'app/app-registration.bicep' = if (authMode == 'entra' && empty(authClientId)) {
  name: 'app-registration'
  scope: rg
  params: {
    registrationName: 'aml-lifecycle-${resourceToken}'
    displayName: 'aml-lifecycle (${environmentName})'
    readerPrincipalIds: empty(principalId) ? [] : [
      principalId
    ]
    pipelinePrincipalId: pipelinePrincipalId
    pipelineRoles: pipelineRoles
  }
}

var authClient = empty(authClientId) ? (authMode == 'entra' ? appRegistration.outputs.clientId : '') : authClientId
var apiScope = empty(authClientId) ? (authMode == 'entra' ? appRegistration.outputs.apiScope : '') : '${authClientId}/.default'

module appAuth 'app/auth.bicep' = if (authMode == 'entra') {
  name: 'app-auth'
  scope: rg
  params: {
    functionAppName: api.outputs.name
    clientId: authClient
    identifierUri: empty(authClientId) ? appRegistration.outputs.identifierUri : ''
  }
}

module alertsDeadLetterRbac 'app/deadletter-rbac.bicep' = if (!empty(alertWebhookUrl)) {
  name: 'alerts-deadletter-rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    systemTopicPrincipalId: alertsTopic.outputs.principalId
  }
}

module notifications 'app/notifications.bicep' = if (!empty(alertWebhookUrl)) {
  name: 'notifications'
  scope: rg
  params: {
    enabled: deployEventSubscriptions
    alertsTopicName: alertsTopic.outputs.name
    functionResourceId: api.outputs.alertNotifierFunctionId
    deadLetterStorageAccountId: storage.outputs.id
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    maxDeliveryAttempts: eventMaxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
  dependsOn: [
    alertsDeadLetterRbac
  ]
}

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
  scope: resourceGroup(subscriptionId, empty(watchedTopicIds[i]) ? eventsRgName : split(watchedTopicIds[i], '/')[4])
  params: {
    systemTopicName: subscriptionEvents[i].outputs.systemTopicName
    actionGroupId: operations.outputs.actionGroupId
    tags: tags
  }
}]

// Delivery failures: the topic's DeliveryFailures log to Log Analytics, and an alert long before the dead letters.
module systemTopicMonitoring 'app/system-topic-monitoring.bicep' = [for (subscriptionId, i) in watched: {
  name: 'topic-monitoring-${uniqueString(subscriptionId, resourceToken)}'
  scope: resourceGroup(subscriptionId, empty(watchedTopicIds[i]) ? eventsRgName : split(watchedTopicIds[i], '/')[4])
  params: {
    systemTopicName: subscriptionEvents[i].outputs.systemTopicName
    actionGroupId: operations.outputs.actionGroupId
    logAnalyticsId: monitoring.outputs.logAnalyticsId
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
output AZURE_SUBSCRIPTION_ID string = subscription().subscriptionId
output AML_LIFECYCLE_LEDGER_LOCKED bool = protectLedger
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = egstName
output DEPLOY_EVENT_SUBSCRIPTIONS bool = deployEventSubscriptions
output AZURE_MONITOR_WORKBOOK_ID string = operations.outputs.workbookId
output AML_LIFECYCLE_AUTH string = authMode
output AML_LIFECYCLE_AUTH_CLIENT_ID string = authClient
// what a pipeline asks a token for: az account get-access-token --scope "$AML_LIFECYCLE_API_SCOPE"
output AML_LIFECYCLE_API_SCOPE string = apiScope
output AML_LIFECYCLE_NOTIFY_WEBHOOK_SET bool = !empty(alertWebhookUrl)
