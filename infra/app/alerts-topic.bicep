// Event Grid custom topic the app publishes its CloudEvents alerts to (docs/alerts.md). Keys are disabled:
// only Entra identities holding "EventGrid Data Sender" can publish. Its system-assigned identity delivers
// to Service Bus / Storage queues without a URL secret (docs/alerts.md); declared here so that every
// `azd provision` keeps it.
param name string
param location string
param tags object = {}
@description('Reached through a private endpoint only (network.bicep).')
param vnetEnabled bool = false

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  //checkov:skip=CKV_AZURE_193:public network access is Disabled with vnetEnabled (the app publishes through a private endpoint); without it local auth is disabled, so only Entra identities with EventGrid Data Sender can publish
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
  }
}

output id string = topic.id
output name string = topic.name
output endpoint string = topic.properties.endpoint
output principalId string = topic.identity.principalId
