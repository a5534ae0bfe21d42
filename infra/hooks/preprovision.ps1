# azd preprovision hook (Windows): every resource group named in AML_MANAGED_SCOPES / AML_MOVE_TARGET_SCOPES must
# exist before the role assignments at it are deployed. A missing group is created when AML_CREATE_SCOPE_GROUPS=true
# (in AZURE_LOCATION), never touched when it exists; otherwise the hook stops and names the missing groups.
$ErrorActionPreference = 'Stop'

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Write-Error "preprovision: 'az' is required (see docs/deploy.md, prerequisites)"
    exit 1
}
foreach ($line in (& azd env get-values)) {
    if ($line -match '^([A-Za-z_][A-Za-z0-9_]*)=(.*)$') {
        [Environment]::SetEnvironmentVariable($matches[1], ($matches[2] -replace '^"|"$'))
    }
}

$scopes = @()
foreach ($value in @($env:AML_MANAGED_SCOPES, $env:AML_MOVE_TARGET_SCOPES)) {
    if ($value) { $scopes += @($value | ConvertFrom-Json) }
}
$missing = @()
foreach ($scope in ($scopes | Sort-Object -Unique)) {
    if ($scope -notmatch '^/subscriptions/([^/]+)/resourceGroups/([^/]+)$') { continue }
    $sub, $group = $matches[1], $matches[2]
    $exists = az group exists --subscription $sub --name $group
    if ($LASTEXITCODE -ne 0) { Write-Error "preprovision: cannot check $scope (see the az error above)"; exit 1 }
    if ($exists -eq 'true') { continue }
    if ($env:AML_CREATE_SCOPE_GROUPS -eq 'true') {
        Write-Host "preprovision: creating resource group $group in subscription $sub ($($env:AZURE_LOCATION))"
        az group create --subscription $sub --name $group --location $env:AZURE_LOCATION `
            --tags "azd-env-name=$($env:AZURE_ENV_NAME)" application=aml-lifecycle --output none
        if ($LASTEXITCODE -ne 0) { exit 1 }
    } else {
        $missing += $scope
    }
}
if ($missing.Count -gt 0) {
    Write-Error ("preprovision: these scope resource groups do not exist: " + ($missing -join ', ') +
        ". Create them, or let this hook create them: azd env set AML_CREATE_SCOPE_GROUPS true (docs/deploy.md).")
    exit 1
}
