"""Restore: re-create the snapshot's computes, endpoints, deployments and traffic split in a workspace, a pass at a time.

Used at the destination after the move and at the source as compensation when the move did not happen. Each item
is re-created under a fixed name (compute instances moved to the destination under a name derived from the move),
so a pass that runs twice re-applies the same PUT: an update, never a second resource. Before a PUT the resource is
read: one already there and Succeeded is simply recorded as restored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError

from shared.azure.ml_workload import FAILED, RUNNING, WorkloadGateway
from shared.moves.workload.quiesce import CANCELED, refused, resource_id
from shared.moves.workload.snapshot import new_instance_name

RESTORED, RESTORE_FAILED, KEPT = "restored", "restore-failed", "kept"
SETTLED = frozenset({RESTORED, RESTORE_FAILED, KEPT, CANCELED})
_READY = "succeeded"


def restore_pass(
    gw: WorkloadGateway,
    workspace_id: str,
    items: list[dict[str, Any]],
    *,
    move_id: str,
    moved: bool,
    rebase: Callable[[str], str] | None = None,
) -> bool:
    """Advance every item one step (in place) at `workspace_id`; True when all have settled.

    `moved`: the workspace was moved, so compute instances take a new name (known issue
    workspace-move-compute-instance-same-name); at the source (compensation) they keep theirs.
    `rebase`: maps an ARM id of the source to where it lives after the move (the workspace's models, environments,
    code and computes; a subnet whose network moved along); every id in a definition goes through it.
    """
    if rebase is not None:
        for item in items:
            if item.get("definition") and not item.get("rebased"):
                item["definition"] = _rebase(item["definition"], rebase)
                item["rebased"] = True
    endpoints = {i["name"]: i for i in items if i["kind"] == "endpoint"}
    for item in items:
        if item["state"] in SETTLED:
            continue
        parent = endpoints.get(item.get("endpoint") or "") if item["kind"] in ("deployment", "traffic") else None
        if item["state"] == "present" and (parent is None or parent["state"] in ("present", KEPT)):
            item["state"] = KEPT  # never removed (nor its endpoint): still where it was
            continue
        if item["kind"] == "job":  # jobs are canceled, never restarted: a cancel in flight completes by itself
            item["state"] = CANCELED if item["state"] == "canceling" else KEPT
            continue
        if item["kind"] == "compute":
            wanted = item["name"]
            if moved and item.get("computeType", "").lower() == "computeinstance":
                wanted = new_instance_name(item["name"], move_id)
            item.setdefault("restoredName", wanted)
            _apply(gw, workspace_id, item, item["definition"], item["restoredName"])
        elif item["kind"] == "endpoint":
            _apply(gw, workspace_id, item, item["definition"], item["name"])
        elif item["kind"] == "deployment":
            parent = endpoints.get(item["endpoint"]) or {}
            if parent.get("state") == RESTORE_FAILED:
                item.update(state=RESTORE_FAILED, error=f"its endpoint {item['endpoint']} could not be re-created")
            elif parent.get("state") == RESTORED:
                _apply(gw, workspace_id, item, item["definition"], item["name"])
        elif item["kind"] == "traffic":
            _traffic(gw, workspace_id, item, endpoints.get(item["endpoint"]) or {}, items)
    return all(i["state"] in SETTLED for i in items)


def _traffic(gw: WorkloadGateway, workspace_id: str, item: dict[str, Any], endpoint: dict[str, Any],
             items: list[dict[str, Any]]) -> None:
    deployments = [i for i in items if i["kind"] == "deployment" and i["endpoint"] == item["endpoint"]]
    if endpoint.get("state") == RESTORE_FAILED or any(d["state"] == RESTORE_FAILED for d in deployments):
        item.update(state=RESTORE_FAILED, error="the endpoint or one of its deployments could not be re-created; "
                    f"set the traffic split {item['traffic']} by hand once they exist")
        return
    if endpoint.get("state") != RESTORED or any(d["state"] != RESTORED for d in deployments):
        return
    if not any(item["traffic"].values()) and not item.get("mirrorTraffic"):
        item["state"] = RESTORED  # the endpoint was re-created with no traffic, as it had
        return
    definition = copy.deepcopy(endpoint["definition"])
    definition.setdefault("properties", {})["traffic"] = dict(item["traffic"])
    if item.get("mirrorTraffic"):
        definition["properties"]["mirrorTraffic"] = dict(item["mirrorTraffic"])
    _apply(gw, workspace_id, item, definition, item["endpoint"], check=_traffic_matches(item["traffic"]))


def _traffic_matches(wanted: dict[str, int]):
    def check(body: dict[str, Any]) -> bool:
        found = {k.lower(): v for k, v in ((body.get("properties") or {}).get("traffic") or {}).items() if v}
        return found == {k.lower(): v for k, v in wanted.items() if v}

    return check


def _apply(gw: WorkloadGateway, workspace_id: str, item: dict[str, Any], definition: dict[str, Any], name: str,
           *, check: Any = None) -> None:
    """PUT the definition unless the resource is already there as wanted; follow its operation; read it back."""
    rid = resource_id(workspace_id, item, name)
    failure = None
    if item["state"] == "restoring" and item.get("operation"):
        progress = gw.follow(item["operation"], item.get("operationKind") or "async")
        if progress.status == RUNNING:
            return
        item["operation"] = None
        if progress.status == FAILED:
            failure = f"re-creating it failed: {progress.message}"
    body = gw.find(rid)  # the resource is the judge, whatever its operation said
    if body is not None:
        state = str((body.get("properties") or {}).get("provisioningState", "")).lower()
        if state == _READY and (check is None or check(body)):
            item.update(state=RESTORED, restoredId=body.get("id") or rid, error=None, operation=None)
            return
    if failure is not None:
        item.update(state=RESTORE_FAILED, error=failure)
        return
    try:
        started = gw.put(rid, definition)
    except HttpResponseError as exc:
        refused(item, exc, RESTORE_FAILED, "re-creating it was refused")
        return
    item.update(state="restoring", operation=started.operation, operationKind="async", restoredIn=workspace_id)
    answered = str(((started.body or {}).get("properties") or {}).get("provisioningState", "")).lower()
    if started.operation is None and answered == _READY and (check is None or check(started.body or {})):
        item.update(state=RESTORED, restoredId=(started.body or {}).get("id") or rid, error=None)


def _rebase(value: Any, rebase: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return rebase(value) if value.lower().startswith("/subscriptions/") else value
    if isinstance(value, list):
        return [_rebase(v, rebase) for v in value]
    if isinstance(value, dict):
        return {k: _rebase(v, rebase) for k, v in value.items()}
    return value
