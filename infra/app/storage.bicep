// The app's storage account: Functions host + Durable task hub, Flex deployment package, Event Grid
// dead letters and the app's tables. Shared keys are disabled: every caller uses Entra ID.
@minLength(3)
@maxLength(24)
@description('3-24 lowercase letters and digits (main.bicep default: st + 13-character uniqueString token).')
param name string
param location string
param tags object = {}
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'
param deploymentContainerName string
param deadLetterContainerName string
param tableNames array = []
@description('Deny public network traffic except trusted Azure services (Event Grid writes dead letters with its identity); the app comes through private endpoints (network.bicep).')
param vnetEnabled bool = false
@description('CanNotDelete lock: the retention ledger lives in this account.')
param protectLedger bool = true
@description('Log Analytics workspace receiving the table and blob logs and the account\'s transaction metrics; empty: none.')
param logAnalyticsId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35:defaultAction is Deny with vnetEnabled (private endpoints, network.bicep); without it the Flex host reaches storage over the public endpoint; shared keys are disabled, so every request needs an Entra token with a data role
  //checkov:skip=CKV_AZURE_59:public network access stays Enabled so that trusted Azure services (Event Grid dead-lettering with its identity) pass the firewall; with vnetEnabled every other caller is denied; blob anonymous access is disabled separately
  //checkov:skip=CKV_AZURE_43:the name is a parameter (st + uniqueString token by default, length-checked above); checkov sometimes evaluates it to the unrendered expression and flags it at random
  //checkov:skip=CKV_AZURE_206:skuName is a parameter: main.bicep picks Standard_ZRS where the region has availability zones and LRS elsewhere (docs/deploy.md); GRS is a parameter value away
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false // identity only: no account keys, no SAS
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    dnsEndpointType: 'Standard'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// The app creates missing tables itself; creating them here makes them visible right after provisioning.
resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

// The ledger (WorkspaceRetention and the other tables) is the app's memory: an accidental delete of the account
// must not take it. A lock blocks deleting the account (and azd down) until it is removed on purpose.
resource ledgerLock 'Microsoft.Authorization/locks@2020-05-01' = if (protectLedger) {
  name: 'aml-lifecycle-ledger'
  scope: storage
  properties: {
    level: 'CanNotDelete'
    notes: 'aml-lifecycle retention ledger: export the tables first (docs/operations.md), then remove this lock to delete the account.'
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsId)) {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsId)) {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsId)) {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: logAnalyticsId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output tableEndpoint string = storage.properties.primaryEndpoints.table
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output deploymentContainerName string = deploymentContainer.name
output deadLetterContainerName string = deadLetterContainer.name
