# azd postdeploy hook (Windows): wire the Event Grid system topics to the workspace_events function.
#
# The event subscriptions use endpoint type AzureFunction (Event Grid resolves the function by resource
# id and fetches its key itself), so this hook never reads a key. It only has to wait until the function
# exists, then provision again with DEPLOY_EVENT_SUBSCRIPTIONS=true.
# Opt out with: azd env set AML_SKIP_EVENT_SUBSCRIPTIONS true
$ErrorActionPreference = 'Stop'

foreach ($tool in @('az', 'azd')) {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) {
        Write-Error "postdeploy: '$tool' is required (see docs/deploy.md, prerequisites)"
        exit 1
    }
}

foreach ($line in (& azd env get-values)) {
    if ($line -match '^([A-Za-z_][A-Za-z0-9_]*)=(.*)$') {
        [Environment]::SetEnvironmentVariable($matches[1], ($matches[2] -replace '^"|"$'))
    }
}

if ($env:AML_SKIP_EVENT_SUBSCRIPTIONS -eq 'true') {
    Write-Host 'postdeploy: AML_SKIP_EVENT_SUBSCRIPTIONS=true: not wiring Event Grid (see docs/subscriptions.md).'
    exit 0
}
if ($env:DEPLOY_EVENT_SUBSCRIPTIONS -eq 'true') {
    Write-Host 'postdeploy: event subscriptions are part of provisioning already; nothing to do.'
    exit 0
}
if (-not $env:AZURE_SUBSCRIPTION_ID -or -not $env:AZURE_RESOURCE_GROUP -or -not $env:AZURE_FUNCTION_APP_NAME) {
    Write-Error 'postdeploy: run azd provision first'
    exit 1
}

Write-Host "postdeploy: waiting for function workspace_events on $($env:AZURE_FUNCTION_APP_NAME) ..."
# Always against azd's subscription, and az's own error is shown when giving up.
$found = $false
$lastError = ''
for ($attempt = 0; $attempt -lt 30; $attempt++) {
    $out = az functionapp function show --subscription $env:AZURE_SUBSCRIPTION_ID `
        --resource-group $env:AZURE_RESOURCE_GROUP --name $env:AZURE_FUNCTION_APP_NAME `
        --function-name workspace_events --query name --output tsv 2>&1
    if ($LASTEXITCODE -eq 0) { $found = $true; break }
    $lastError = ($out | Out-String)
    Start-Sleep -Seconds 10
}
if (-not $found) {
    Write-Error ("postdeploy: workspace_events did not appear within 5 minutes; az said: $lastError" +
        "Check the deployment, then run: azd env set DEPLOY_EVENT_SUBSCRIPTIONS true; azd provision")
    exit 1
}

Write-Host 'postdeploy: workspace_events exists; provisioning the event subscriptions.'
azd env set DEPLOY_EVENT_SUBSCRIPTIONS true
# Role definitions and assignments take minutes to replicate; every name is deterministic, so a later run converges.
for ($run = 1; $run -le 3; $run++) {
    azd provision --no-prompt
    if ($LASTEXITCODE -eq 0) { break }
    if ($run -eq 3) {
        Write-Error "postdeploy: provisioning failed 3 times (azd printed why above). DEPLOY_EVENT_SUBSCRIPTIONS stays true: fix the cause and run 'azd provision'."
        exit 1
    }
    Write-Host "postdeploy: provisioning failed (run $run of 3); retrying in 2 minutes: role replication can take that long."
    Start-Sleep -Seconds 120
}
Write-Host 'postdeploy: Event Grid now delivers ML workspace write/delete events to workspace_events.'
