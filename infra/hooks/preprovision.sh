#!/bin/sh
# azd preprovision hook: every resource group named in AML_MANAGED_SCOPES / AML_MOVE_TARGET_SCOPES must exist
# before the role assignments at it are deployed (ARM answers ResourceGroupNotFound otherwise). A missing group is
# created when AML_CREATE_SCOPE_GROUPS=true (in AZURE_LOCATION, tagged), and never touched when it exists;
# otherwise the hook stops and says which groups are missing and how to go on.
set -eu

if ! command -v az >/dev/null 2>&1; then
  echo "preprovision: 'az' is required (see docs/deploy.md, prerequisites)" >&2
  exit 1
fi
eval "$(azd env get-values | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/export \1=\2/p')"

# JSON arrays of ids hold no commas or quotes inside an id: split them without a JSON tool.
scopes=$(printf '%s,%s' "${AML_MANAGED_SCOPES:-[]}" "${AML_MOVE_TARGET_SCOPES:-[]}" | tr -d '[]" ' | tr ',' '\n' | sort -u)
missing=""
for scope in $scopes; do
  case "$(printf '%s' "$scope" | tr 'A-Z' 'a-z')" in
    /subscriptions/*/resourcegroups/*) ;;
    *) continue ;;
  esac
  sub=$(printf '%s' "$scope" | cut -d/ -f3)
  group=$(printf '%s' "$scope" | cut -d/ -f5)
  if ! exists=$(az group exists --subscription "$sub" --name "$group" 2>/tmp/aml-preprovision.err); then
    echo "preprovision: cannot check $scope:" >&2
    cat /tmp/aml-preprovision.err >&2
    exit 1
  fi
  if [ "$exists" = "true" ]; then
    continue
  fi
  if [ "${AML_CREATE_SCOPE_GROUPS:-false}" = "true" ]; then
    echo "preprovision: creating resource group $group in subscription $sub ($AZURE_LOCATION)"
    az group create --subscription "$sub" --name "$group" --location "$AZURE_LOCATION" \
      --tags "azd-env-name=$AZURE_ENV_NAME" application=aml-lifecycle --output none
  else
    missing="$missing $scope"
  fi
done

if [ -n "$missing" ]; then
  echo "preprovision: these scope resource groups do not exist:" >&2
  for scope in $missing; do echo "  $scope" >&2; done
  echo "Create them (az group create --subscription <id> -n <group> -l <region>), or let this hook create" >&2
  echo "them in $AZURE_LOCATION: azd env set AML_CREATE_SCOPE_GROUPS true (docs/deploy.md)." >&2
  exit 1
fi
