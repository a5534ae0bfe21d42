// Microsoft Entra sign-in (docs/auth.md), part 2: App Service Authentication (authsettingsV2) on the function app,
// validating bearer tokens for the app registration (app/app-registration.bicep, or an existing one) in front of the
// Functions host; the app reads the principal and checks each route's app role (AML_LIFECYCLE_AUTH=entra).
param functionAppName string
@description('Client id of the app registration.')
param clientId string
@description('Its Application ID URI, also accepted as audience (v2.0 tokens carry the client id).')
param identifierUri string = ''

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// App Service Authentication: validates the bearer token (issuer, audience, signature, lifetime) and hands the app
// the principal in X-MS-CLIENT-PRINCIPAL*, stripping client-sent copies. AllowAnonymous: a request without a token
// reaches the host, where every /api route answers 401 itself and the Event Grid webhook and /admin keep their
// system/master keys (docs/auth.md, "Why ANONYMOUS level"). No client secret: bearer validation needs none.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // These checks read a 'web' site configuration; this resource is the 'authsettingsV2' document, so they do not apply to it.
  //checkov:skip=CKV_AZURE_13:not a web config: this resource is the App Service Authentication setting itself
  //checkov:skip=CKV_AZURE_63:not a web config: logs go to Application Insights through identity-based ingestion
  //checkov:skip=CKV_AZURE_65:not a web config: detailed errors go to Application Insights, never to callers
  //checkov:skip=CKV_AZURE_66:not a web config: request tracing goes to Application Insights
  //checkov:skip=CKV_AZURE_80:not a web config: the app is Python 3.11, there is no .NET Framework
  //checkov:skip=CKV_AZURE_88:not a web config: Flex Consumption runs from a blob deployment package, Azure Files is not used
  //checkov:skip=CKV_AZURE_222:not a web config: public network access is set on the site (skipped there with its reason)
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: empty(identifierUri) ? [
            clientId
          ] : [
            clientId
            identifierUri
          ]
        }
      }
    }
  }
}
