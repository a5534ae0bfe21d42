// Alerts to a person (docs/alerts.md): the alerts topic's subscription delivering every alert type to the app's
// alert_notifier function, which posts a readable card to the incoming webhook (AML_LIFECYCLE_NOTIFY_WEBHOOK_URL).
// Event Grid keeps an alert the webhook did not take: it redelivers within the retry policy, then dead-letters it
// to storage with the topic's own identity. Created only when a webhook is configured and the function exists.
@description('False until the function exists: the post-deploy hook sets DEPLOY_EVENT_SUBSCRIPTIONS and provisions again.')
param enabled bool = true
param alertsTopicName string
param name string = 'alerts-to-person'
@description('Resource id of the function: <function app id>/functions/alert_notifier')
param functionResourceId string
param deadLetterStorageAccountId string
param deadLetterContainerName string
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: alertsTopicName
}

resource toPerson 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = if (enabled) {
  parent: topic
  name: name
  properties: {
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: functionResourceId
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      // every alert type of docs/alerts.md
      includedEventTypes: [
        'AmlLifecycle.Workspace.SoftDeleted'
        'AmlLifecycle.Workspace.NameBlocked'
        'AmlLifecycle.Retention.ExpiringSoon'
        'AmlLifecycle.Retention.Expired'
        'AmlLifecycle.Retention.Digest'
        'AmlLifecycle.Move.Succeeded'
        'AmlLifecycle.Move.Failed'
        'AmlLifecycle.Move.NeedsAttention'
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

output id string = enabled ? toPerson.id : ''
