// Events dead-lettered: a metric alert on one Event Grid system topic, deployed in that topic's resource group.
// Metric DeadLetteredCount (Total; dimensions DeadLetterReason, EventSubscriptionName), as listed in the Event Grid
// monitoring data reference (learn.microsoft.com/azure/event-grid/monitor-push-reference).
param systemTopicName string
param actionGroupId string
param tags object = {}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'aml-lifecycle-dead-lettered-${systemTopicName}'
  location: 'global'
  tags: tags
  properties: {
    description: 'Workspace events were dead-lettered by ${systemTopicName}. Runbook: docs/operations.md#events-dead-lettered'
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
          name: 'DeadLettered'
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: 'DeadLetteredCount'
          timeAggregation: 'Total'
          operator: 'GreaterThan'
          threshold: 0
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

output id string = deadLettered.id
