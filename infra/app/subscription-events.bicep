// Deployed at one watched subscription: that subscription's Event Grid system topic (Microsoft.Resources.Subscriptions),
// whose identity dead-letters undeliverable events. A subscription holds one such topic at most: when it has one
// already, pass its id (existingSystemTopicId) and the event subscription is added to it instead.
targetScope = 'subscription'

param resourceGroupName string
param location string
param systemTopicName string
@description('Id of the subscription\'s existing Microsoft.Resources.Subscriptions system topic; empty: create one. It must have a system-assigned identity (dead letters are written with it).')
param existingSystemTopicId string = ''
param tags object = {}

var reuse = !empty(existingSystemTopicId)
var existingParts = split(existingSystemTopicId, '/')

resource eventsGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = if (!reuse) {
  name: resourceGroupName
  location: location
  tags: tags
}

module systemTopic 'system-topic.bicep' = if (!reuse) {
  name: 'egst-${uniqueString(subscription().id, systemTopicName)}'
  scope: resourceGroup(resourceGroupName)
  params: {
    name: systemTopicName
    tags: tags
  }
  dependsOn: [
    eventsGroup
  ]
}

resource existingTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = if (reuse) {
  name: reuse ? existingParts[8] : systemTopicName
  scope: resourceGroup(reuse ? existingParts[4] : resourceGroupName)
}

output subscriptionId string = subscription().subscriptionId
output resourceGroupName string = reuse ? existingParts[4] : resourceGroupName
output systemTopicName string = reuse ? existingParts[8] : systemTopicName
output systemTopicPrincipalId string = reuse ? existingTopic.identity.principalId : systemTopic.outputs.principalId
