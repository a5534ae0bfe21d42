// Event Grid custom topic the app publishes its CloudEvents alerts to (DESIGN §7). Keys are disabled:
// only Entra identities holding "EventGrid Data Sender" can publish.
param name string
param location string
param tags object = {}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  //checkov:skip=CKV_AZURE_193:the app publishes from Flex Consumption without VNet integration; local auth is disabled, so only Entra identities with EventGrid Data Sender can publish
  name: name
  location: location
  tags: tags
  identity: {
    type: 'None'
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
