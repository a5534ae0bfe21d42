// The Flex Consumption function app (Python 3.11) running as its user-assigned identity. The host reaches
// its storage with that identity (AzureWebJobsStorage__credential = managedidentity): no key anywhere.
param name string
param planName string
param location string
param tags object = {}
param serviceName string = 'api'
param identityId string
param identityClientId string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param applicationInsightsName string
@description('Settings of the app itself (docs/settings.md); merged over the host settings below.')
param appSettings object = {}
@secure()
@description('Settings holding a secret (the alert webhook URL): kept out of the deployment\'s recorded inputs.')
param secretAppSettings object = {}
param runtimeVersion string = '3.11'
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40
@description('Subnet (delegated to Microsoft.App/environments) for VNet integration; empty: none.')
param virtualNetworkSubnetId string = ''
@description('Allow inbound traffic only from the AzureEventGrid service tag and inboundAllowedIpRanges.')
param restrictInbound bool = false
param inboundAllowedIpRanges array = []
@description('Log Analytics workspace receiving the function app\'s logs; empty: none.')
param logAnalyticsId string = ''

// Event Grid delivers to the AzureFunction endpoint over the public endpoint from its service tag's addresses.
var eventGridRule = [
  {
    name: 'event-grid'
    action: 'Allow'
    tag: 'ServiceTag'
    ipAddress: 'AzureEventGrid'
    priority: 100
  }
]
var callerRules = [for (range, i) in inboundAllowedIpRanges: {
  name: 'caller-${i}'
  action: 'Allow'
  tag: 'Default'
  ipAddress: range
  priority: 200 + i
}]

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225:Flex Consumption (FC1) plan; zone redundancy is not a property of this serverless plan here, and Event Grid retries cover an instance outage (24 h TTL)
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_222:Event Grid cannot deliver through a private endpoint, so the inbound endpoint stays public; restrictInbound limits it to the AzureEventGrid service tag and the callers' ranges, vnetEnabled puts storage and the alerts topic behind private endpoints (docs/deploy.md, networking)
  //checkov:skip=CKV_AZURE_17:client certificates would break Event Grid webhook delivery; callers authenticate with function keys over HTTPS only
  //checkov:skip=CKV_AZURE_212:Flex Consumption scales from zero by design; always-ready instances would only add cost for an event-driven, retried workload
  //checkov:skip=CKV_AZURE_78:Flex Consumption does not support FTP(S) and deprecates siteConfig.ftpsState; the ftp basic-publishing policy below is off
  //checkov:skip=CKV_AZURE_213:App Service health check is not available on Flex Consumption, and /api/health needs a function key; probe it from monitoring instead (docs/deploy.md)
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled' // Event Grid push delivery needs it: it cannot deliver through a private endpoint
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    clientCertEnabled: false
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: runtimeVersion
      }
    }
    // No ftpsState: Flex Consumption lists `properties.ftpsState` as deprecated ("FTPS not supported",
    // functions-app-settings.md#flex-consumption-plan-deprecations); FTP publishing is off below anyway.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      remoteDebuggingEnabled: false
      ipSecurityRestrictions: restrictInbound ? concat(eventGridRule, callerRules) : []
      ipSecurityRestrictionsDefaultAction: restrictInbound ? 'Deny' : 'Allow'
      scmIpSecurityRestrictionsUseMain: false // azd deploys through the scm site with an Entra token
    }
  }
}

// Host settings: identity-based storage for the Functions host and the Durable task hub, and
// identity-based (AAD) ingestion into Application Insights, whose local auth is disabled. The service URIs
// (not `__accountName`, which builds public-cloud *.core.windows.net names) come from the account itself,
// so sovereign clouds work: blob (host, leases), queue (Durable control/work items), table (Durable history).
var hostSettings = {
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // OpenTelemetry (host.json telemetryMode): the Python worker streams its own logs and spans (docs/operations.md)
  PYTHON_ENABLE_OPENTELEMETRY: 'true'
  AZURE_CLIENT_ID: identityClientId
}

// Merged into the settings the app already has (a setting added by hand or by another module survives a provision);
// the template's own values win. The current settings pass as a @secure() parameter, so no value lands in the
// deployment history.
module settings 'app-settings.bicep' = {
  name: 'appsettings-${uniqueString(functionApp.id)}'
  params: {
    functionAppName: functionApp.name
    currentAppSettings: list('${functionApp.id}/config/appsettings', '2024-04-01').properties
    appSettings: union(appSettings, hostSettings)
    secretAppSettings: secretAppSettings
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsId)) {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

// Basic (publishing) credentials off: azd deploys with an Entra token.
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output workspaceEventsFunctionId string = '${functionApp.id}/functions/workspace_events'
output alertNotifierFunctionId string = '${functionApp.id}/functions/alert_notifier'
