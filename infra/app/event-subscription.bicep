// Routes a watched subscription's ML workspace write/delete successes to the workspace_events function.
// Endpoint type AzureFunction: Event Grid resolves the function by resource id and handles the key
// itself, so no key is read, stored or passed here. The function must exist (code deployed) first.
@description('False until the function exists: the post-deploy hook sets DEPLOY_EVENT_SUBSCRIPTIONS and provisions again.')
param enabled bool = true
param systemTopicName string
param name string = 'aml-workspace-events'
@description('Resource id of the function: <function app id>/functions/workspace_events')
param functionResourceId string
param deadLetterStorageAccountId string
param deadLetterContainerName string
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource workspaceEvents 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (enabled) {
  parent: systemTopic
  name: name
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: functionResourceId
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
        'Microsoft.Resources.ResourceWriteFailure' // a workspace create refused on a held name: NameBlocked alert
      ]
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: [
            'Microsoft.MachineLearningServices/workspaces/write'
            'Microsoft.MachineLearningServices/workspaces/delete'
            // A deleted resource group's workspaces: ARM emits one event per management request and nothing
            // documents one per resource the group held (docs: event-schema-resource-groups).
            'Microsoft.Resources/subscriptions/resourceGroups/delete'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output id string = enabled ? workspaceEvents.id : ''
