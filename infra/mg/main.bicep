// aml-lifecycle fleet-wide watch (opt-in), deployed at a management group after infra/main.bicep:
//   az deployment mg create --management-group-id <mg> --location <region> \
//     --template-file infra/mg/main.bicep --parameters environmentName=... (docs/subscriptions.md)
// Every subscription below the group, including ones created later, gets the Microsoft.Resources.Subscriptions
// system topic and the event subscription to workspace_events through a DeployIfNotExists initiative
// (policy-definitions.bicep); existing subscriptions are remediated now; the app's identity may read the group's
// subscriptions, workspaces and event wiring. docs/subscriptions.md walks through it.
targetScope = 'managementGroup'

@minLength(1)
@maxLength(64)
@description('The azd environment of the app deployment (names the roles and definitions).')
param environmentName string
@description('Region of the policy assignment identity, the dead-letter identity and of new events resource groups.')
param location string

// ---- the app deployment this wires to (infra/main.bicep outputs) ----------------------------------
@description('Subscription id of the app deployment (AZURE_SUBSCRIPTION_ID).')
param appSubscriptionId string
@description('Resource group of the app (AZURE_RESOURCE_GROUP).')
param appResourceGroupName string
@description('Function app name (AZURE_FUNCTION_APP_NAME).')
param functionAppName string
@description('Storage account holding the dead-letter container (AZURE_STORAGE_ACCOUNT_NAME).')
param storageAccountName string
param deadLetterContainerName string = 'eventgrid-deadletter'
@description('Principal id of the app\'s user-assigned identity (AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID).')
param appPrincipalId string

// ---- what the policy deploys ----------------------------------------------------------------------
param eventsResourceGroupName string = 'rg-aml-events'
param systemTopicName string = 'egst-aml-subscription'
param eventSubscriptionName string = 'aml-workspace-events'
@minValue(1)
@maxValue(30)
param eventMaxDeliveryAttempts int = 30
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440
@allowed([
  'DeployIfNotExists'
  'AuditIfNotExists'
  'Disabled'
])
param effect string = 'DeployIfNotExists'
@description('Remediate the subscriptions and topics that exist now (new ones are handled as they appear).')
param remediateExisting bool = true

var tags = {
  'azd-env-name': environmentName
  application: 'aml-lifecycle'
}
var appGroup = resourceGroup(appSubscriptionId, appResourceGroupName)
var functionResourceId = '/subscriptions/${appSubscriptionId}/resourceGroups/${appResourceGroupName}/providers/Microsoft.Web/sites/${functionAppName}/functions/workspace_events'
var managedIdentityOperatorId = '/providers/Microsoft.Authorization/roleDefinitions/f1a07417-d97a-45cb-824c-7a7467783830' // Managed Identity Operator
var assignmentName = 'aml-events-${take(uniqueString(managementGroup().id, environmentName), 8)}' // at most 24 characters at a management group

module roles 'roles.bicep' = {
  name: 'aml-fleet-roles'
  params: {
    environmentName: environmentName
  }
}

module deadLetterIdentity 'deadletter-identity.bicep' = {
  name: 'aml-fleet-deadletter-identity'
  scope: appGroup
  params: {
    name: 'id-aml-events-deadletter-${take(uniqueString(managementGroup().id, environmentName), 8)}'
    location: location
    tags: tags
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
  }
}

module definitions 'policy-definitions.bicep' = {
  name: 'aml-fleet-policy-definitions'
  params: {
    environmentName: environmentName
    roleDefinitionIds: [
      roles.outputs.wiringRoleId
      managedIdentityOperatorId
    ]
  }
}

// The initiative's assignment at the group, with the system-assigned identity remediation deploys as.
resource assignment 'Microsoft.Authorization/policyAssignments@2023-04-01' = {
  name: assignmentName
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'aml-lifecycle (${environmentName}): watch ML workspace events in every subscription'
    policyDefinitionId: definitions.outputs.initiativeId
    enforcementMode: 'Default'
    parameters: {
      functionResourceId: {
        value: functionResourceId
      }
      deadLetterStorageAccountId: {
        value: deadLetterIdentity.outputs.storageAccountId
      }
      deadLetterContainerName: {
        value: deadLetterContainerName
      }
      deadLetterIdentityId: {
        value: deadLetterIdentity.outputs.id
      }
      eventSubscriptionName: {
        value: eventSubscriptionName
      }
      maxDeliveryAttempts: {
        value: eventMaxDeliveryAttempts
      }
      eventTimeToLiveInMinutes: {
        value: eventTimeToLiveInMinutes
      }
      effect: {
        value: effect
      }
      eventsResourceGroupName: {
        value: eventsResourceGroupName
      }
      systemTopicName: {
        value: systemTopicName
      }
      location: {
        value: location
      }
    }
    nonComplianceMessages: [
      {
        message: 'ML workspace deletions in this subscription are not seen by aml-lifecycle: the event subscription to workspace_events is missing.'
      }
    ]
  }
}

// The assignment identity: the exact wiring role at the group (every subscription below it) ...
resource wiringAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, assignment.id, roles.outputs.wiringRoleGuid)
  properties: {
    roleDefinitionId: roles.outputs.wiringRoleId
    principalId: assignment.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ... and, in the app's resource group, attach the dead-letter identity and target the function.
module policyIdentityRbac 'policy-identity-rbac.bicep' = {
  name: 'aml-fleet-policy-identity-rbac'
  scope: appGroup
  params: {
    policyPrincipalId: assignment.identity.principalId
    deadLetterIdentityName: last(split(deadLetterIdentity.outputs.id, '/'))
    functionAppName: functionAppName
    environmentName: environmentName
  }
}

// The app's identity reads the group: descendants (discovery), workspaces (backfill), event wiring (coverage).
resource inventoryAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, appPrincipalId, roles.outputs.inventoryRoleGuid)
  properties: {
    roleDefinitionId: roles.outputs.inventoryRoleId
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Remediation of what exists now: first the subscriptions without a system topic, then the topics (pre-existing
// ones included) without the event subscription. At a management group only ExistingNonCompliant discovery is
// supported: the compliance scan that follows an assignment must have run (docs/subscriptions.md).
resource remediateTopics 'Microsoft.PolicyInsights/remediations@2021-10-01' = if (remediateExisting) {
  name: '${assignmentName}-topic'
  properties: {
    policyAssignmentId: assignment.id
    policyDefinitionReferenceId: 'topic'
    resourceDiscoveryMode: 'ExistingNonCompliant'
    failureThreshold: {
      percentage: 1
    }
  }
  dependsOn: [
    wiringAssignment
    policyIdentityRbac
  ]
}

resource remediateSubscriptions 'Microsoft.PolicyInsights/remediations@2021-10-01' = if (remediateExisting) {
  name: '${assignmentName}-subscription'
  properties: {
    policyAssignmentId: assignment.id
    policyDefinitionReferenceId: 'subscription'
    resourceDiscoveryMode: 'ExistingNonCompliant'
    failureThreshold: {
      percentage: 1
    }
  }
  dependsOn: [
    remediateTopics
  ]
}

// names and ids only, never a secret
output AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS string = managementGroup().id
output AML_FLEET_POLICY_ASSIGNMENT_ID string = assignment.id
output AML_FLEET_POLICY_PRINCIPAL_ID string = assignment.identity.principalId
output AML_FLEET_DEADLETTER_IDENTITY_ID string = deadLetterIdentity.outputs.id
output AML_FLEET_INVENTORY_ROLE_NAME string = roles.outputs.inventoryRoleName
