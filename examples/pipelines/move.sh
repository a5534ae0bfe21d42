#!/usr/bin/env bash
# Validate, start and follow one Azure ML workspace move through aml-lifecycle; exits 0 only when it Succeeded.
#
# Environment:
#   AML_LIFECYCLE_URL           the function app, e.g. https://func-aml-lifecycle.azurewebsites.net
#   AML_LIFECYCLE_API_SCOPE     with Entra sign-in (the default; docs/auth.md): the app's scope, e.g.
#                               api://<tenant>/aml-lifecycle-<token>/.default; each request gets a token from the
#                               pipeline's OIDC sign-in (az account get-access-token: cached, refreshed near expiry)
#   AML_LIFECYCLE_TOKEN         or a bearer token obtained before (valid about an hour: long moves need the scope)
#   AML_LIFECYCLE_FUNCTION_KEY  or, with AML_LIFECYCLE_AUTH=keys, a function key (a pipeline secret)
#                               None of them is ever printed or put on a command line.
#   MOVE_BODY_FILE              the POST /api/moves body (workspaceId, targetResourceGroupId, ...; "quiesce": true
#                               removes computes / online endpoints before the move and re-creates them after it)
#   POLL_SECONDS                seconds between status reads (default 30)
#   TIMEOUT_MINUTES             give up following after this long (default 300: ARM allows a move 4 hours)
# Needs bash, curl >= 7.55 and jq (present on GitHub-hosted and Microsoft-hosted Ubuntu agents).
set -euo pipefail
set +x  # never trace: the key is in a header file, but keep traces off anyway

: "${AML_LIFECYCLE_URL:?set AML_LIFECYCLE_URL}"
[[ -n "${AML_LIFECYCLE_API_SCOPE:-}${AML_LIFECYCLE_TOKEN:-}${AML_LIFECYCLE_FUNCTION_KEY:-}" ]] \
  || { echo "ERROR: set AML_LIFECYCLE_API_SCOPE (OIDC sign-in), AML_LIFECYCLE_TOKEN or AML_LIFECYCLE_FUNCTION_KEY" >&2; exit 1; }
: "${MOVE_BODY_FILE:?set MOVE_BODY_FILE}"
poll_seconds="${POLL_SECONDS:-30}"
deadline=$(( $(date +%s) + ${TIMEOUT_MINUTES:-300} * 60 ))
base="${AML_LIFECYCLE_URL%/}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077
# The credential goes to curl through a header file (curl -H @file): not in argv, not in the log.
credentials() {
  local token="${AML_LIFECYCLE_TOKEN:-}"
  if [[ -n "${AML_LIFECYCLE_API_SCOPE:-}" ]]; then
    token="$(az account get-access-token --scope "$AML_LIFECYCLE_API_SCOPE" --query accessToken -o tsv)" \
      || { echo "ERROR: no token for $AML_LIFECYCLE_API_SCOPE: is the pipeline signed in (OIDC) and assigned an app role?" >&2; exit 1; }
  fi
  if [[ -n "$token" ]]; then
    printf 'Authorization: Bearer %s\nContent-Type: application/json\n' "$token" > "$work/headers"
  else
    printf 'x-functions-key: %s\nContent-Type: application/json\n' "$AML_LIFECYCLE_FUNCTION_KEY" > "$work/headers"
  fi
}

fail() {
  if [[ -n "${GITHUB_ACTIONS:-}" ]]; then echo "::error::$*"; elif [[ -n "${TF_BUILD:-}" ]]; then echo "##vso[task.logissue type=error]$*"; fi
  echo "ERROR: $*" >&2
  exit 1
}

# call METHOD PATH [BODY_FILE] -> the HTTP status on stdout, the answer in $work/answer.json
call() {
  local data=()
  [[ $# -ge 3 ]] && data=(--data-binary "@$3")
  credentials
  curl -sS --max-time 120 -o "$work/answer.json" -w '%{http_code}' -X "$1" -H "@$work/headers" "${data[@]}" "$base$2" || echo 000
}

jq -e 'type == "object" and has("workspaceId") and has("targetResourceGroupId")' "$MOVE_BODY_FILE" >/dev/null \
  || fail "MOVE_BODY_FILE must hold a JSON object with workspaceId and targetResourceGroupId"

echo "== validate"
jq 'del(.recreateRoleAssignments)' "$MOVE_BODY_FILE" > "$work/validate.json"
status="$(call POST /api/moves/validate "$work/validate.json")"
[[ "$status" == 200 ]] || fail "validation answered $status: $(jq -c '.error // .' "$work/answer.json" 2>/dev/null)"
jq -r '.checks[] | "  \(.status | ascii_upcase)\t\(.id)\t\(.message)"' "$work/answer.json"
jq -e '.ready' "$work/answer.json" >/dev/null \
  || fail "the workspace cannot move: $(jq -r '[.checks[] | select(.status == "failed") | .id] | join(", ")' "$work/answer.json") (ARM validation: $(jq -r '.armValidation.status' "$work/answer.json"))"

echo "== start"
status="$(call POST /api/moves "$MOVE_BODY_FILE")"
case "$status" in
  202) move_id="$(jq -r '.moveId' "$work/answer.json")"; echo "started move $move_id" ;;
  409) move_id="$(jq -r '.moveId // empty' "$work/answer.json")"
       [[ -n "$move_id" ]] || fail "a move of this workspace is starting right now; run again in a minute"
       echo "a move of this workspace is already running: following $move_id" ;;
  422) jq -r '.checks[]? | select(.status == "failed") | "  FAILED\t\(.id)\t\(.message)"' "$work/answer.json"
       fail "the preflight failed when starting: $(jq -r '.error.message' "$work/answer.json")" ;;
  *)   fail "starting the move answered $status: $(jq -c '.error // .' "$work/answer.json" 2>/dev/null)" ;;
esac

echo "== follow"
errors=0
last=""
while :; do
  status="$(call GET "/api/moves/$move_id")"
  if [[ "$status" == 200 ]]; then
    errors=0
    state="$(jq -r '.state' "$work/answer.json")"
    summary="$(jq -r '[.steps[] | "\(.name):\(.status)"] | join(" ")' "$work/answer.json")"
    [[ "$state $summary" != "$last" ]] && echo "  $(date -u +%H:%M:%S) $state  $summary"
    last="$state $summary"
    case "$state" in Succeeded|Failed|NeedsAttention) break ;; esac
  else
    errors=$((errors + 1))
    echo "  status read answered $status ($errors in a row)"
    (( errors < 10 )) || fail "could not read the move's status $errors times in a row"
  fi
  (( $(date +%s) < deadline )) || fail "move $move_id still $state after ${TIMEOUT_MINUTES:-300} minutes; it keeps running: follow $base/api/moves/$move_id"
  sleep "$poll_seconds"
done

echo "== result: $state"
# With "quiesce": true, each compute / endpoint / deployment / traffic split removed and re-created, and the
# compute instances that came back under a new name (they cannot keep theirs after a move).
jq -r '.workload[]? | "  WORKLOAD\t\(.kind)\t\(.name)\t\(.state)" + (if .restoredName then "\t-> \(.restoredName)" else "" end)' "$work/answer.json"
jq -r '(.renamedComputes // {}) | to_entries[] | "  RENAMED\tcompute instance \(.key) -> \(.value)"' "$work/answer.json"
jq -r '.leftToDo[]? | "  TODO\t\(.kind)\t\(.target)\t\(.message)"' "$work/answer.json"
case "$state" in
  Succeeded) echo "moved to $(jq -r '.targetWorkspaceId' "$work/answer.json")" ;;
  NeedsAttention) fail "move $move_id finished but left $(jq '.leftToDo | length' "$work/answer.json") item(s) for a person (listed above)" ;;
  *) fail "move $move_id failed: $(jq -r '.error | "\(.code): \(.message)" + ([.reasons[]? | " [\(.code)] \(.message)"] | join(""))' "$work/answer.json")" ;;
esac
