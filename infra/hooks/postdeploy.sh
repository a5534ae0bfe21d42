#!/bin/sh
# azd postdeploy hook: wire the Event Grid system topics to the workspace_events function.
#
# The event subscriptions use endpoint type AzureFunction (Event Grid resolves the function by resource
# id and fetches its key itself), so this hook never reads a key. It only has to wait until the function
# exists, then provision again with DEPLOY_EVENT_SUBSCRIPTIONS=true. Later `azd up` runs create the
# subscriptions during provisioning and this hook has nothing left to do.
# Opt out with: azd env set AML_SKIP_EVENT_SUBSCRIPTIONS true
set -eu

for tool in az azd; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "postdeploy: '$tool' is required (see docs/deploy.md, prerequisites)" >&2
    exit 1
  fi
done

# azd exports the environment's values to hooks; read them again in case the hook is run by hand.
eval "$(azd env get-values | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/export \1=\2/p')"

if [ "${AML_SKIP_EVENT_SUBSCRIPTIONS:-false}" = "true" ]; then
  echo "postdeploy: AML_SKIP_EVENT_SUBSCRIPTIONS=true: not wiring Event Grid (see docs/subscriptions.md)."
  exit 0
fi

if [ "${DEPLOY_EVENT_SUBSCRIPTIONS:-false}" = "true" ]; then
  echo "postdeploy: event subscriptions are part of provisioning already; nothing to do."
  exit 0
fi

: "${AZURE_SUBSCRIPTION_ID:?azd sets AZURE_SUBSCRIPTION_ID; run azd provision first}"
: "${AZURE_RESOURCE_GROUP:?run azd provision first}"
: "${AZURE_FUNCTION_APP_NAME:?run azd provision first}"

echo "postdeploy: waiting for function workspace_events on ${AZURE_FUNCTION_APP_NAME} ..."
# Always against azd's subscription (az's default may be another one), and az's own error is shown when giving up.
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
attempt=0
until az functionapp function show \
        --subscription "$AZURE_SUBSCRIPTION_ID" \
        --resource-group "$AZURE_RESOURCE_GROUP" \
        --name "$AZURE_FUNCTION_APP_NAME" \
        --function-name workspace_events \
        --query name --output tsv >/dev/null 2>"$errors"; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "postdeploy: workspace_events did not appear within 5 minutes; az said:" >&2
    sed 's/^/  /' "$errors" >&2
    echo "Check the deployment (az functionapp function list --subscription $AZURE_SUBSCRIPTION_ID" >&2
    echo "  -g $AZURE_RESOURCE_GROUP -n $AZURE_FUNCTION_APP_NAME), then run:" >&2
    echo "  azd env set DEPLOY_EVENT_SUBSCRIPTIONS true && azd provision" >&2
    exit 1
  fi
  sleep 10
done

echo "postdeploy: workspace_events exists; provisioning the event subscriptions."
azd env set DEPLOY_EVENT_SUBSCRIPTIONS true
# New role assignments and definitions take minutes to replicate (a first provision may meet
# RoleDefinitionDoesNotExist / PrincipalNotFound / LinkedAuthorizationFailed): every name is deterministic, so a
# later run converges. Three runs, two minutes apart.
run=1
until azd provision --no-prompt; do
  if [ "$run" -ge 3 ]; then
    echo "postdeploy: provisioning failed $run times (azd printed why above). DEPLOY_EVENT_SUBSCRIPTIONS stays true:" >&2
    echo "  fix the cause and run 'azd provision' (docs/deploy.md, troubleshooting)." >&2
    exit 1
  fi
  echo "postdeploy: provisioning failed (run $run of 3); retrying in 2 minutes: role replication can take that long." >&2
  run=$((run + 1))
  sleep 120
done
echo "postdeploy: Event Grid now delivers ML workspace write/delete events to workspace_events."
