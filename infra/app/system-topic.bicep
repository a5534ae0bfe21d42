// The Event Grid system topic of the subscription this resource group belongs to. A subscription's
// system topic is a global resource; an Azure subscription can hold only one of them per topic type.
param name string
param tags object = {}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned' // used to write dead letters (deadLetterWithResourceIdentity)
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

output name string = systemTopic.name
output principalId string = systemTopic.identity.principalId
