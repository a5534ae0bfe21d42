// Operating the app: an action group, the log alert rules and the workbook (docs/operations.md is their runbook).
// The dead-letter metric alert sits beside each system topic (deadletter-alert.bicep) and uses this action group.
// Log alerts query the Application Insights component (classic table names: requests, exceptions, traces);
// the app's structured log lines carry customDimensions.kind (shared/logs.py), which the queries select on.
param location string
param tags object = {}
@description('Application Insights component the log alerts and the workbook read.')
param applicationInsightsId string
@description('Email address the alerts go to; empty: the action group has no receiver (alerts still show in the portal).')
param alertEmail string = ''
@minValue(5)
@maxValue(1440)
@description('Minutes between two retention sweeps (AML_LIFECYCLE_SWEEP_SCHEDULE); the heartbeat alert fires after twice that.')
param sweepIntervalMinutes int = 60
param actionGroupName string
param workbookDisplayName string = 'aml-lifecycle operations'

var failuresQuery = '''
union
  (requests | where success == false | project timestamp, function = operation_Name, what = strcat("request ", resultCode)),
  (exceptions | project timestamp, function = operation_Name, what = strcat("exception ", type))
| summarize failures = count() by function
'''

var sweepQuery = '''
traces
| where tostring(customDimensions.kind) == "sweep.finished"
'''

var moveQuery = '''
traces
| where tostring(customDimensions.kind) == "move.finished"
| extend state = tostring(customDimensions.state), moveId = tostring(customDimensions.moveId), workspaceId = tostring(customDimensions.workspaceId)
| where state in ("NeedsAttention", "Failed")
| project timestamp, moveId, workspaceId, state
'''

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'amllifecycle'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Function failures: a failed invocation (the host's request) or an exception, per function, in 15 minutes.
resource functionFailures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'aml-lifecycle-function-failures'
  location: location
  tags: tags
  properties: {
    displayName: 'aml-lifecycle: function failures'
    description: 'A function invocation failed or raised. Runbook: docs/operations.md#function-failures'
    severity: 1
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: failuresQuery
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          dimensions: [
            {
              name: 'function'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// The sweep's heartbeat: no `sweep.finished` line for twice the sweep's interval.
resource sweepStopped 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'aml-lifecycle-sweep-stopped'
  location: location
  tags: tags
  properties: {
    displayName: 'aml-lifecycle: retention sweep not running'
    description: 'No retention sweep finished for twice its schedule. Runbook: docs/operations.md#sweep-not-running'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT${2 * sweepIntervalMinutes}M'
    criteria: {
      allOf: [
        {
          query: sweepQuery
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// A move that ended NeedsAttention or Failed: one alert per move (split by moveId).
resource moveNeedsAttention 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'aml-lifecycle-move-needs-attention'
  location: location
  tags: tags
  properties: {
    displayName: 'aml-lifecycle: move needs attention or failed'
    description: 'A workspace move ended NeedsAttention or Failed. Runbook: docs/operations.md#move-needs-attention-or-failed'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: moveQuery
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'moveId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'state'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// The workbook: tiles over the app's structured log lines (queries explained in docs/operations.md#workbook).
var softDeletedTile = '''
traces
| where tostring(customDimensions.kind) == "ledger.transition"
| extend workspaceId = tolower(tostring(customDimensions.workspaceId)), state = tostring(customDimensions.state), purgeAfter = todatetime(customDimensions.purgeAfter)
| summarize arg_max(timestamp, state, purgeAfter) by workspaceId
| where state == "SoftDeleted"
| extend daysLeft = datetime_diff("day", purgeAfter, now())
| project workspaceId, purgeAfter, daysLeft, since = timestamp
| order by purgeAfter asc
'''

var alertsTile = '''
traces
| where tostring(customDimensions.kind) in ("alert.published", "alert.logged", "alert.failed")
| project timestamp, outcome = tostring(customDimensions.kind), alertType = tostring(customDimensions.alertType), workspaceId = tostring(customDimensions.workspaceId), moveId = tostring(customDimensions.moveId), alertId = tostring(customDimensions.alertId)
| order by timestamp desc
'''

var movesTile = '''
traces
| where tostring(customDimensions.kind) in ("move.state", "move.step")
| extend moveId = tostring(customDimensions.moveId), workspaceId = tostring(customDimensions.workspaceId), kind = tostring(customDimensions.kind), state = tostring(customDimensions.state), step = strcat(tostring(customDimensions.step), ": ", tostring(customDimensions.status))
| summarize arg_max(timestamp, state), started = min(timestamp), steps = make_list_if(step, kind == "move.step") by moveId, workspaceId
| project moveId, workspaceId, state, steps, started, updated = timestamp
| order by updated desc
'''

var workbookItems = [
  {
    type: 1
    name: 'intro'
    content: {
      json: '## aml-lifecycle\nSoft-deleted workspaces, alerts, moves and failures, from the app\'s structured logs. Runbook: docs/operations.md.'
    }
  }
  {
    type: 3
    name: 'soft-deleted'
    content: {
      version: 'KqlItem/1.0'
      title: 'Soft-deleted workspaces and days left before purge'
      query: softDeletedTile
      size: 0
      timeContext: {
        durationMs: 2592000000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: 'table'
    }
  }
  {
    type: 3
    name: 'alerts'
    content: {
      version: 'KqlItem/1.0'
      title: 'Alerts sent'
      query: alertsTile
      size: 0
      timeContext: {
        durationMs: 604800000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: 'table'
    }
  }
  {
    type: 3
    name: 'moves'
    content: {
      version: 'KqlItem/1.0'
      title: 'Moves: state and steps'
      query: movesTile
      size: 0
      timeContext: {
        durationMs: 604800000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: 'table'
    }
  }
  {
    type: 3
    name: 'failures'
    content: {
      version: 'KqlItem/1.0'
      title: 'Failures by function'
      query: failuresQuery
      size: 0
      timeContext: {
        durationMs: 86400000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: 'barchart'
    }
  }
]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsightsId, 'aml-lifecycle-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: workbookDisplayName
    category: 'workbook'
    sourceId: applicationInsightsId
    version: 'Notebook/1.0'
    serializedData: string({
      version: 'Notebook/1.0'
      items: workbookItems
      fallbackResourceIds: [
        applicationInsightsId
      ]
    })
  }
}

output actionGroupId string = actionGroup.id
output workbookId string = workbook.id
