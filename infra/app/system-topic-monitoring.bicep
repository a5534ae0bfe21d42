// Per watched subscription, beside its system topic: the topic's delivery-failure logs to the app's Log Analytics
// workspace (log category DeliveryFailures) and a metric alert on failed delivery attempts (DeliveryAttemptFailCount,
// Total; dimensions Error, ErrorType, EventSubscriptionName), both as listed in the Event Grid monitoring data
// reference (learn.microsoft.com/azure/event-grid/monitor-push-reference). Failed attempts come hours before a
// dead letter (30 attempts over 24 h): this alert is the early one, DeadLetteredCount (deadletter-alert.bicep) the
// late one.
param systemTopicName string
param actionGroupId string
param logAnalyticsId string
param tags object = {}
@minValue(1)
@description('Failed delivery attempts within 15 minutes that raise the alert.')
param failedAttemptsThreshold int = 5

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'aml-lifecycle-to-log-analytics'
  scope: systemTopic
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'DeliveryFailures'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource deliveryFailed 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'aml-lifecycle-delivery-failed-${systemTopicName}'
  location: 'global'
  tags: tags
  properties: {
    description: 'Event Grid could not deliver workspace events from ${systemTopicName} to workspace_events (retrying; dead letters follow after 24 h). Runbook: docs/operations.md#events-dead-lettered'
    severity: 2
    enabled: true
    scopes: [
      systemTopic.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    targetResourceType: 'Microsoft.EventGrid/systemTopics'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeliveryFailed'
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: 'DeliveryAttemptFailCount'
          timeAggregation: 'Total'
          operator: 'GreaterThanOrEqual'
          threshold: failedAttemptsThreshold
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroupId
      }
    ]
  }
}

output alertId string = deliveryFailed.id
