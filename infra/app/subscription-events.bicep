// Deployed at one watched subscription: a resource group holding that subscription's Event Grid system
// topic (Microsoft.Resources.Subscriptions), whose identity dead-letters undeliverable events.
targetScope = 'subscription'

param resourceGroupName string
param location string
param systemTopicName string
param tags object = {}

resource eventsGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module systemTopic 'system-topic.bicep' = {
  name: 'egst-${uniqueString(subscription().id, systemTopicName)}'
  scope: eventsGroup
  params: {
    name: systemTopicName
    tags: tags
  }
}

output subscriptionId string = subscription().subscriptionId
output resourceGroupName string = eventsGroup.name
output systemTopicName string = systemTopic.outputs.name
output systemTopicPrincipalId string = systemTopic.outputs.principalId
