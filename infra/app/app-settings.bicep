// The function app's app settings, merged: the settings it has now, overlaid with the template's (which win).
// A provision therefore never drops a setting someone added; one removed from the template stays until
// deleted by hand (az functionapp config appsettings delete).
param functionAppName string
@secure()
@description('The app\'s current settings (list of config/appsettings); secure, so no value is logged in the deployment.')
param currentAppSettings object
param appSettings object
@secure()
@description('Settings holding a secret (the alert webhook URL): kept out of the deployment\'s recorded inputs.')
param secretAppSettings object = {}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  // These checks read a 'web' site configuration; this resource is the 'appsettings' key/value list, so they do not apply to it.
  //checkov:skip=CKV_AZURE_13:not a web config: App Service Authentication is the authsettingsV2 resource of app/auth.bicep (AML_LIFECYCLE_AUTH=entra), function keys otherwise
  //checkov:skip=CKV_AZURE_63:not a web config: logs go to Application Insights through identity-based ingestion
  //checkov:skip=CKV_AZURE_65:not a web config: detailed errors go to Application Insights, never to callers
  //checkov:skip=CKV_AZURE_66:not a web config: request tracing goes to Application Insights
  //checkov:skip=CKV_AZURE_80:not a web config: the app is Python 3.11, there is no .NET Framework
  //checkov:skip=CKV_AZURE_88:not a web config: Flex Consumption runs from a blob deployment package, Azure Files is not used
  //checkov:skip=CKV_AZURE_222:not a web config: public network access is set on the site (skipped there with its reason)
  parent: functionApp
  name: 'appsettings'
  properties: union(currentAppSettings, appSettings, secretAppSettings)
}
