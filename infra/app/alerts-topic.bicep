// Event Grid custom topic the app publishes its CloudEvents alerts to (docs/alerts.md). Keys are disabled:
// only Entra identities holding "EventGrid Data Sender" can publish. Its system-assigned identity delivers
// to Service Bus / Storage queues without a URL secret (docs/alerts.md); declared here so that every
// `azd provision` keeps it.
param name string
param location string
param tags object = {}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  //checkov:skip=CKV_AZURE_193:the app publishes from Flex Consumption without VNet integration; local auth is disabled, so only Entra identities with EventGrid Data Sender can publish
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
    publicNetworkAccess: 'Enabled'
  }
}

output id string = topic.id
output name string = topic.name
output endpoint string = topic.properties.endpoint
output principalId string = topic.identity.principalId
