"""`make demo`: the story end to end on the local stack, narrated: soft delete → ledger → sweep → validate → move."""

from __future__ import annotations

import time

from local.stack import SUB_DEV, SUB_PROD, Stack, arm, call
from local.waiting import wait_until

RG_DEV = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev"
WS_TYPE = "providers/Microsoft.MachineLearningServices/workspaces"
TERMINAL = {"Succeeded", "Failed", "NeedsAttention"}


def say(text: str = "") -> None:
    print(text, flush=True)


def alerts(stack: Stack, event_type: str, subject_suffix: str) -> list[dict]:
    events = [record["event"] for record in stack.simulator.control("GET", "/_sim/topics/alerts/events") or []]
    return [e for e in events if e.get("type") == event_type and str(e.get("subject", "")).endswith(subject_suffix)]


def soft_delete(stack: Stack) -> None:
    say("1. A data scientist deletes workspace ws-online (an ordinary DELETE: soft delete) ...")
    status, _ = arm(stack, "DELETE", f"{RG_DEV}/{WS_TYPE}/ws-online")
    say(f"   ARM answered {status}; Event Grid tells the app.")
    row = wait_until(lambda: _row(stack, "ws-online"), "the ledger row for ws-online", timeout=120, interval=0.5)
    say(f"   ledger: {row['state']}, deleted by {row.get('deletedBy')}, purge after {row.get('purgeAfter')}")
    recovery = row.get("recovery") or {}
    say(f"   recoverable: {recovery.get('recoverable')}; recovery order:")
    for step in recovery.get("recoveryOrder", []):
        say(f"     {step['step']}. {step['role']} ({step['status']}): {step['action']}")
    [alert] = wait_until(lambda: alerts(stack, "AmlLifecycle.Workspace.SoftDeleted", "/ws-online"),
                         "the SoftDeleted alert", timeout=120, interval=0.5)
    say(f"   alert {alert['type']} published for {alert['subject'].rsplit('/', 1)[-1]}")


def _row(stack: Stack, name: str) -> dict | None:
    status, body = call(stack, "GET", f"retention/{SUB_DEV}/rg-ml-dev/{name}")
    return body if status == 200 and isinstance(body, dict) and body.get("state") else None


def sweep(stack: Stack) -> None:
    say("2. The retention sweep runs (here on demand through the host's admin route) ...")
    status, _ = call(stack, "POST", "/admin/functions/retention_sweep", {"input": ""})
    say(f"   admin route answered {status}")
    [alert] = wait_until(lambda: alerts(stack, "AmlLifecycle.Retention.ExpiringSoon", "/ws-online"),
                         "the ExpiringSoon alert", timeout=120, interval=0.5)
    data = alert.get("data") or {}
    say(f"   alert {alert['type']}: {data.get('daysLeft', '?')} days ({data.get('hoursLeft', '?')} h) left, "
        f"purge at {data.get('purgeAfter', '?')}")


def validate(stack: Stack, request: dict) -> dict:
    status, report = call(stack, "POST", "moves/validate", request)
    if status != 200:
        raise RuntimeError(f"validate answered {status}: {report}")
    failed = [check for check in report["checks"] if check["status"] == "failed"]
    warnings = [check["id"] for check in report["checks"] if check["status"] == "warning"]
    say(f"   ready={report['ready']}; failed: {[c['id'] for c in failed] or 'none'}; warnings: {warnings}")
    for check in failed:
        say(f"     {check['id']}: {check['message']}")
    say(f"   ARM validateMoveResources: {report['armValidation'].get('status')}")
    return report


def preflight(stack: Stack, request: dict) -> None:
    ws = request["workspaceId"]
    say("3. Someone left a compute instance on ws-quiet; the pipeline asks whether ws-quiet can move to ml-prod ...")
    compute = {"location": "westeurope", "properties": {"computeType": "ComputeInstance",
                                                         "properties": {"vmSize": "STANDARD_DS3_V2"}}}
    arm(stack, "PUT", f"{ws}/computes/ci-forgotten", compute)
    report = validate(stack, request)
    if report["ready"]:
        raise RuntimeError("validation should have failed on the compute instance")
    say("   The team deletes the compute instance and asks again ...")
    arm(stack, "DELETE", f"{ws}/computes/ci-forgotten")
    report = validate(stack, request)
    if not report["ready"]:
        raise RuntimeError("validation should pass once the compute is gone")


def move(stack: Stack, request: dict) -> int:
    say("4. The pipeline starts the move and polls it ...")
    status, started = call(stack, "POST", "moves", request)
    if status != 202:
        raise RuntimeError(f"start answered {status}: {started}")
    move_id = started["moveId"]
    say(f"   202: moveId {move_id}")
    seen: set[tuple[str, str]] = set()

    def progress() -> dict | None:
        _, body = call(stack, "GET", f"moves/{move_id}")
        for step in body.get("steps", []):
            key = (step.get("name", ""), step.get("status", ""))
            if key not in seen:
                seen.add(key)
                say(f"   step {key[0]}: {key[1]}")
        return body if body.get("state") in TERMINAL else None

    final = wait_until(progress, "the move's end", timeout=600, interval=1)
    say(f"   move {final['state']}")
    for connection in final.get("privateEndpoints", []):
        say(f"     private endpoint connection {connection.get('name')}: {connection.get('status')}")
    for datastore in final.get("datastores", []):
        say(f"     datastore {datastore.get('name')}: {datastore.get('status')}")
    for item in final.get("leftToDo", []):
        say(f"     left to do: {item.get('kind')} {item.get('target', '')}: {item.get('message')}")
    return 0 if final["state"] == "Succeeded" else 1


def play(stack: Stack) -> int:
    started = time.monotonic()
    request = {
        "workspaceId": f"{RG_DEV}/{WS_TYPE}/ws-quiet",
        "targetResourceGroupId": f"/subscriptions/{SUB_PROD}/resourceGroups/rg-ml-prod",
        "includeAssociated": True,
        "includeResources": [f"{RG_DEV}/providers/Microsoft.Storage/storageAccounts/sttrainingdata"],
    }
    move_request = {**request, "recreateRoleAssignments": True}
    soft_delete(stack)
    sweep(stack)
    preflight(stack, request)
    code = move(stack, move_request)
    say(f"demo finished in {time.monotonic() - started:.0f}s")
    return code
