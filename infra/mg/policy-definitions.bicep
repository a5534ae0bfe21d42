// The two DeployIfNotExists definitions and the initiative that wires every subscription of a management group
// to the app's workspace_events function, as app/system-topic.bicep + app/event-subscription.bicep do per listed
// subscription. Shape: the Azure Policy docs "deployIfNotExists effect" (details.type, existenceScope,
// existenceCondition, deploymentScope, roleDefinitionIds, deployment with a nested template) and built-in DINE
// definitions that deploy at subscription scope (deploymentScope 'subscription' + deployment.location, a resource
// group then a nested resource-group deployment).
//
// 1. topic: evaluated resource = the subscription (if type Microsoft.Resources/subscriptions). Compliant when the
//    subscription holds a Microsoft.Resources.Subscriptions system topic anywhere (existenceScope 'subscription';
//    Azure allows one per subscription). Otherwise it creates the events resource group, the topic (identity: the
//    dead-letter user-assigned identity) and the event subscription.
// 2. subscription: evaluated resource = any Microsoft.Resources.Subscriptions system topic, ours or one that was
//    there before (Defender, another team). Compliant when it has the event subscription delivering to our function.
//    Otherwise it adds the dead-letter identity to the topic (keeping the identities it has) and the event
//    subscription: an existing topic is joined, never replaced, so the deployment cannot fail on the one-per-
//    subscription rule.
// The aliases used (Microsoft.EventGrid/systemTopics/topicType, .../eventSubscriptions/destination.*) follow the
// Event Grid policy docs' alias pattern (.../eventSubscriptions/destination.WebHook.endpointUrl); docs/subscriptions.md
// says how to list them before assigning.
targetScope = 'managementGroup'

@description('Used to make the definition names unique per azd environment.')
param environmentName string
@description('Role definition ids the assignment identity needs (roleDefinitionIds of each definition).')
param roleDefinitionIds array

var apiVersion = '2025-02-15'
var topicType = 'Microsoft.Resources.Subscriptions'
var topicDefinitionName = 'aml-events-topic-${uniqueString(managementGroup().id, environmentName)}'
var subscriptionDefinitionName = 'aml-events-sub-${uniqueString(managementGroup().id, environmentName)}'

// Policy parameters shared by both definitions; the initiative passes its own parameters through.
var wiringParameters = {
  functionResourceId: {
    type: 'String'
    metadata: {
      displayName: 'workspace_events function'
      description: '<function app id>/functions/workspace_events'
    }
  }
  deadLetterStorageAccountId: {
    type: 'String'
    metadata: {
      displayName: 'Dead-letter storage account id'
    }
  }
  deadLetterContainerName: {
    type: 'String'
    defaultValue: 'eventgrid-deadletter'
    metadata: {
      displayName: 'Dead-letter container'
    }
  }
  deadLetterIdentityId: {
    type: 'String'
    metadata: {
      displayName: 'Dead-letter identity'
      description: 'User-assigned identity attached to each system topic; it may write the dead-letter container.'
    }
  }
  eventSubscriptionName: {
    type: 'String'
    defaultValue: 'aml-workspace-events'
    metadata: {
      displayName: 'Event subscription name'
    }
  }
  maxDeliveryAttempts: {
    type: 'Integer'
    defaultValue: 30
    metadata: {
      displayName: 'Max delivery attempts'
    }
  }
  eventTimeToLiveInMinutes: {
    type: 'Integer'
    defaultValue: 1440
    metadata: {
      displayName: 'Event time to live (minutes)'
    }
  }
  effect: {
    type: 'String'
    defaultValue: 'DeployIfNotExists'
    allowedValues: [
      'DeployIfNotExists'
      'AuditIfNotExists'
      'Disabled'
    ]
    metadata: {
      displayName: 'Effect'
    }
  }
}

var topicOnlyParameters = {
  eventsResourceGroupName: {
    type: 'String'
    defaultValue: 'rg-aml-events'
    metadata: {
      displayName: 'Resource group of a new system topic'
    }
  }
  systemTopicName: {
    type: 'String'
    defaultValue: 'egst-aml-subscription'
    metadata: {
      displayName: 'Name of a new system topic'
    }
  }
  location: {
    type: 'String'
    metadata: {
      displayName: 'Location of the events resource group and of the deployment'
      strongType: 'location'
    }
  }
}

// Deployment parameters passed from policy parameters ([parameters('x')] is evaluated by Azure Policy).
var passThrough = {
  functionResourceId: {
    value: '[parameters(\'functionResourceId\')]'
  }
  deadLetterStorageAccountId: {
    value: '[parameters(\'deadLetterStorageAccountId\')]'
  }
  deadLetterContainerName: {
    value: '[parameters(\'deadLetterContainerName\')]'
  }
  deadLetterIdentityId: {
    value: '[parameters(\'deadLetterIdentityId\')]'
  }
  eventSubscriptionName: {
    value: '[parameters(\'eventSubscriptionName\')]'
  }
  maxDeliveryAttempts: {
    value: '[parameters(\'maxDeliveryAttempts\')]'
  }
  eventTimeToLiveInMinutes: {
    value: '[parameters(\'eventTimeToLiveInMinutes\')]'
  }
}

var templateParameters = {
  functionResourceId: {
    type: 'string'
  }
  deadLetterStorageAccountId: {
    type: 'string'
  }
  deadLetterContainerName: {
    type: 'string'
  }
  deadLetterIdentityId: {
    type: 'string'
  }
  eventSubscriptionName: {
    type: 'string'
  }
  maxDeliveryAttempts: {
    type: 'int'
  }
  eventTimeToLiveInMinutes: {
    type: 'int'
  }
}

// Inner parameters of the wiring template, handed down from the outer deployment (names identical).
var innerPassThrough = {
  functionResourceId: {
    value: '[parameters(\'functionResourceId\')]'
  }
  deadLetterStorageAccountId: {
    value: '[parameters(\'deadLetterStorageAccountId\')]'
  }
  deadLetterContainerName: {
    value: '[parameters(\'deadLetterContainerName\')]'
  }
  deadLetterIdentityId: {
    value: '[parameters(\'deadLetterIdentityId\')]'
  }
  eventSubscriptionName: {
    value: '[parameters(\'eventSubscriptionName\')]'
  }
  maxDeliveryAttempts: {
    value: '[parameters(\'maxDeliveryAttempts\')]'
  }
  eventTimeToLiveInMinutes: {
    value: '[parameters(\'eventTimeToLiveInMinutes\')]'
  }
}

// The topic and its event subscription, at resource-group scope. `existingTopic` is the topic as ARM returns it
// (reference(..., 'Full')) or, for a new one, {location, properties: {source, topicType}}: the PUT keeps its
// location, tags, source and every identity it had, and adds the dead-letter identity.
// Same delivery as app/event-subscription.bicep: AzureFunction destination (Event Grid resolves the key itself),
// the two Microsoft.Resources success events narrowed to ML workspace writes and deletes, the retry policy, and
// dead letters written with the topic's (here user-assigned) identity.
var wiringTemplate = {
  '$schema': 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#'
  contentVersion: '1.0.0.0'
  parameters: union(templateParameters, {
    topicName: {
      type: 'string'
    }
    existingTopic: {
      type: 'object'
    }
  })
  resources: [
    {
      type: 'Microsoft.EventGrid/systemTopics'
      apiVersion: apiVersion
      name: '[parameters(\'topicName\')]'
      location: '[parameters(\'existingTopic\').location]'
      tags: '[if(contains(parameters(\'existingTopic\'), \'tags\'), parameters(\'existingTopic\').tags, createObject())]'
      identity: {
        type: '[if(and(contains(parameters(\'existingTopic\'), \'identity\'), contains(toLower(string(parameters(\'existingTopic\').identity.type)), \'systemassigned\')), \'SystemAssigned, UserAssigned\', \'UserAssigned\')]'
        userAssignedIdentities: '[union(if(and(contains(parameters(\'existingTopic\'), \'identity\'), contains(parameters(\'existingTopic\').identity, \'userAssignedIdentities\')), toObject(items(parameters(\'existingTopic\').identity.userAssignedIdentities), lambda(\'i\', lambdaVariables(\'i\').key), lambda(\'i\', createObject())), createObject()), createObject(parameters(\'deadLetterIdentityId\'), createObject()))]'
      }
      properties: {
        source: '[parameters(\'existingTopic\').properties.source]'
        topicType: '[parameters(\'existingTopic\').properties.topicType]'
      }
    }
    {
      type: 'Microsoft.EventGrid/systemTopics/eventSubscriptions'
      apiVersion: apiVersion
      name: '[format(\'{0}/{1}\', parameters(\'topicName\'), parameters(\'eventSubscriptionName\'))]'
      dependsOn: [
        '[resourceId(\'Microsoft.EventGrid/systemTopics\', parameters(\'topicName\'))]'
      ]
      properties: {
        eventDeliverySchema: 'EventGridSchema'
        destination: {
          endpointType: 'AzureFunction'
          properties: {
            resourceId: '[parameters(\'functionResourceId\')]'
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
                'Microsoft.Resources/subscriptions/resourceGroups/delete' // its workspaces (app/event-subscription.bicep)
              ]
            }
          ]
        }
        retryPolicy: {
          maxDeliveryAttempts: '[parameters(\'maxDeliveryAttempts\')]'
          eventTimeToLiveInMinutes: '[parameters(\'eventTimeToLiveInMinutes\')]'
        }
        deadLetterWithResourceIdentity: {
          identity: {
            type: 'UserAssigned'
            userAssignedIdentity: '[parameters(\'deadLetterIdentityId\')]'
          }
          deadLetterDestination: {
            endpointType: 'StorageBlob'
            properties: {
              resourceId: '[parameters(\'deadLetterStorageAccountId\')]'
              blobContainerName: '[parameters(\'deadLetterContainerName\')]'
            }
          }
        }
      }
    }
  ]
}

// Definition 1: a subscription without a Microsoft.Resources.Subscriptions system topic gets one.
resource topicDefinition 'Microsoft.Authorization/policyDefinitions@2023-04-01' = {
  name: topicDefinitionName
  properties: {
    policyType: 'Custom'
    mode: 'All'
    displayName: 'aml-lifecycle (${environmentName}): subscription system topic with the workspace events subscription'
    description: 'Deploys the Microsoft.Resources.Subscriptions system topic and the event subscription to the aml-lifecycle workspace_events function in a subscription that has no such topic.'
    metadata: {
      category: 'Event Grid'
      version: '1.0.0'
    }
    parameters: union(wiringParameters, topicOnlyParameters)
    policyRule: {
      if: {
        field: 'type'
        equals: 'Microsoft.Resources/subscriptions'
      }
      then: {
        effect: '[parameters(\'effect\')]'
        details: {
          type: 'Microsoft.EventGrid/systemTopics'
          existenceScope: 'subscription'
          existenceCondition: {
            field: 'Microsoft.EventGrid/systemTopics/topicType'
            equals: topicType
          }
          deploymentScope: 'subscription'
          roleDefinitionIds: roleDefinitionIds
          deployment: {
            location: '[parameters(\'location\')]'
            properties: {
              mode: 'incremental'
              parameters: union(passThrough, {
                eventsResourceGroupName: {
                  value: '[parameters(\'eventsResourceGroupName\')]'
                }
                systemTopicName: {
                  value: '[parameters(\'systemTopicName\')]'
                }
                location: {
                  value: '[parameters(\'location\')]'
                }
              })
              template: {
                '$schema': 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#'
                contentVersion: '1.0.0.0'
                parameters: union(templateParameters, {
                  eventsResourceGroupName: {
                    type: 'string'
                  }
                  systemTopicName: {
                    type: 'string'
                  }
                  location: {
                    type: 'string'
                  }
                })
                resources: [
                  {
                    type: 'Microsoft.Resources/resourceGroups'
                    apiVersion: '2024-03-01'
                    name: '[parameters(\'eventsResourceGroupName\')]'
                    location: '[parameters(\'location\')]'
                  }
                  {
                    type: 'Microsoft.Resources/deployments'
                    apiVersion: '2024-03-01'
                    name: 'aml-lifecycle-events-topic'
                    resourceGroup: '[parameters(\'eventsResourceGroupName\')]'
                    dependsOn: [
                      '[resourceId(\'Microsoft.Resources/resourceGroups\', parameters(\'eventsResourceGroupName\'))]'
                    ]
                    properties: {
                      mode: 'Incremental'
                      expressionEvaluationOptions: {
                        scope: 'inner'
                      }
                      parameters: union(innerPassThrough, {
                        topicName: {
                          value: '[parameters(\'systemTopicName\')]'
                        }
                        existingTopic: {
                          value: '[createObject(\'location\', \'global\', \'properties\', createObject(\'source\', subscription().id, \'topicType\', \'${topicType}\'))]'
                        }
                      })
                      template: wiringTemplate
                    }
                  }
                ]
              }
            }
          }
        }
      }
    }
  }
}

// Definition 2: every Microsoft.Resources.Subscriptions system topic (new or pre-existing) gets the event subscription.
resource subscriptionDefinition 'Microsoft.Authorization/policyDefinitions@2023-04-01' = {
  name: subscriptionDefinitionName
  properties: {
    policyType: 'Custom'
    mode: 'All'
    displayName: 'aml-lifecycle (${environmentName}): workspace events subscription on the subscription system topic'
    description: 'Adds the event subscription to the aml-lifecycle workspace_events function (and the dead-letter identity) to an existing Microsoft.Resources.Subscriptions system topic.'
    metadata: {
      category: 'Event Grid'
      version: '1.0.0'
    }
    parameters: wiringParameters
    policyRule: {
      if: {
        allOf: [
          {
            field: 'type'
            equals: 'Microsoft.EventGrid/systemTopics'
          }
          {
            field: 'Microsoft.EventGrid/systemTopics/topicType'
            equals: topicType
          }
        ]
      }
      then: {
        effect: '[parameters(\'effect\')]'
        details: {
          type: 'Microsoft.EventGrid/systemTopics/eventSubscriptions'
          name: '[parameters(\'eventSubscriptionName\')]'
          existenceCondition: {
            allOf: [
              {
                field: 'Microsoft.EventGrid/systemTopics/eventSubscriptions/destination.endpointType'
                equals: 'AzureFunction'
              }
              {
                field: 'Microsoft.EventGrid/systemTopics/eventSubscriptions/destination.AzureFunction.resourceId'
                equals: '[parameters(\'functionResourceId\')]'
              }
            ]
          }
          roleDefinitionIds: roleDefinitionIds
          deployment: {
            properties: {
              mode: 'incremental'
              parameters: union(passThrough, {
                topicName: {
                  value: '[field(\'name\')]'
                }
              })
              template: {
                '$schema': 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#'
                contentVersion: '1.0.0.0'
                parameters: union(templateParameters, {
                  topicName: {
                    type: 'string'
                  }
                })
                resources: [
                  {
                    // nested so that the topic can be read (reference, 'Full') and then written in one deployment
                    type: 'Microsoft.Resources/deployments'
                    apiVersion: '2024-03-01'
                    name: 'aml-lifecycle-events-subscription'
                    properties: {
                      mode: 'Incremental'
                      expressionEvaluationOptions: {
                        scope: 'inner'
                      }
                      parameters: union(innerPassThrough, {
                        topicName: {
                          value: '[parameters(\'topicName\')]'
                        }
                        existingTopic: {
                          value: '[reference(resourceId(\'Microsoft.EventGrid/systemTopics\', parameters(\'topicName\')), \'${apiVersion}\', \'Full\')]'
                        }
                      })
                      template: wiringTemplate
                    }
                  }
                ]
              }
            }
          }
        }
      }
    }
  }
}

// One initiative, so one assignment and one managed identity cover both definitions.
resource initiative 'Microsoft.Authorization/policySetDefinitions@2023-04-01' = {
  name: 'aml-events-${uniqueString(managementGroup().id, environmentName)}'
  properties: {
    policyType: 'Custom'
    displayName: 'aml-lifecycle (${environmentName}): watch ML workspace events in every subscription'
    description: 'Wires each subscription of the management group to the aml-lifecycle workspace_events function.'
    metadata: {
      category: 'Event Grid'
      version: '1.0.0'
    }
    parameters: union(wiringParameters, topicOnlyParameters)
    policyDefinitions: [
      {
        policyDefinitionReferenceId: 'topic'
        policyDefinitionId: topicDefinition.id
        parameters: {
          functionResourceId: {
            value: '[parameters(\'functionResourceId\')]'
          }
          deadLetterStorageAccountId: {
            value: '[parameters(\'deadLetterStorageAccountId\')]'
          }
          deadLetterContainerName: {
            value: '[parameters(\'deadLetterContainerName\')]'
          }
          deadLetterIdentityId: {
            value: '[parameters(\'deadLetterIdentityId\')]'
          }
          eventSubscriptionName: {
            value: '[parameters(\'eventSubscriptionName\')]'
          }
          maxDeliveryAttempts: {
            value: '[parameters(\'maxDeliveryAttempts\')]'
          }
          eventTimeToLiveInMinutes: {
            value: '[parameters(\'eventTimeToLiveInMinutes\')]'
          }
          effect: {
            value: '[parameters(\'effect\')]'
          }
          eventsResourceGroupName: {
            value: '[parameters(\'eventsResourceGroupName\')]'
          }
          systemTopicName: {
            value: '[parameters(\'systemTopicName\')]'
          }
          location: {
            value: '[parameters(\'location\')]'
          }
        }
      }
      {
        policyDefinitionReferenceId: 'subscription'
        policyDefinitionId: subscriptionDefinition.id
        parameters: {
          functionResourceId: {
            value: '[parameters(\'functionResourceId\')]'
          }
          deadLetterStorageAccountId: {
            value: '[parameters(\'deadLetterStorageAccountId\')]'
          }
          deadLetterContainerName: {
            value: '[parameters(\'deadLetterContainerName\')]'
          }
          deadLetterIdentityId: {
            value: '[parameters(\'deadLetterIdentityId\')]'
          }
          eventSubscriptionName: {
            value: '[parameters(\'eventSubscriptionName\')]'
          }
          maxDeliveryAttempts: {
            value: '[parameters(\'maxDeliveryAttempts\')]'
          }
          eventTimeToLiveInMinutes: {
            value: '[parameters(\'eventTimeToLiveInMinutes\')]'
          }
          effect: {
            value: '[parameters(\'effect\')]'
          }
        }
      }
    ]
  }
}

output initiativeId string = initiative.id
output topicDefinitionId string = topicDefinition.id
output subscriptionDefinitionId string = subscriptionDefinition.id
