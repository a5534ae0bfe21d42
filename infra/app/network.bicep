// vnetEnabled: the function app's outbound traffic goes through a VNet (Flex Consumption VNet integration, subnet
// delegated to Microsoft.App/environments), and storage (blob, queue, table) and the alerts topic are reached
// through private endpoints, as the azd Flex Consumption templates' vnetEnabled does. The function's inbound
// endpoint stays public: Event Grid cannot deliver through a private endpoint (Event Grid docs, "Network
// security": push delivery to private endpoints is not supported), so closing it would dead-letter every event.
param name string
param location string
param tags object = {}
param storageAccountId string
param alertsTopicId string
param addressPrefix string = '10.80.0.0/24'
param appSubnetPrefix string = '10.80.0.0/26'
param privateEndpointSubnetPrefix string = '10.80.0.64/26'

var storageServices = [
  'blob'
  'queue'
  'table'
]

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'flex'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource storageZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for service in storageServices: {
  name: 'privatelink.${service}.${environment().suffixes.storage}'
  location: 'global'
  tags: tags
}]

resource storageZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (service, i) in storageServices: {
  parent: storageZones[i]
  name: 'link-${name}'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

resource storageEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [for (service, i) in storageServices: {
  name: 'pe-${last(split(storageAccountId, '/'))}-${service}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: vnet.properties.subnets[1].id
    }
    privateLinkServiceConnections: [
      {
        name: service
        properties: {
          privateLinkServiceId: storageAccountId
          groupIds: [
            service
          ]
        }
      }
    ]
  }
}]

resource storageDnsGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [for (service, i) in storageServices: {
  parent: storageEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: service
        properties: {
          privateDnsZoneId: storageZones[i].id
        }
      }
    ]
  }
}]

// Public cloud zone name of Event Grid topics (learn.microsoft.com/azure/private-link/private-endpoint-dns).
resource topicZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: 'privatelink.eventgrid.azure.net'
  location: 'global'
  tags: tags
}

resource topicZoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: topicZone
  name: 'link-${name}'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

resource topicEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: 'pe-${last(split(alertsTopicId, '/'))}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: vnet.properties.subnets[1].id
    }
    privateLinkServiceConnections: [
      {
        name: 'topic'
        properties: {
          privateLinkServiceId: alertsTopicId
          groupIds: [
            'topic'
          ]
        }
      }
    ]
  }
}

resource topicDnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: topicEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'topic'
        properties: {
          privateDnsZoneId: topicZone.id
        }
      }
    ]
  }
}

output appSubnetId string = vnet.properties.subnets[0].id
output vnetId string = vnet.id
