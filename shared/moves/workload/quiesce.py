"""Quiesce: delete the snapshot's computes and online endpoints and cancel its jobs, one pass at a time.

A pass sends each request that is due and follows each running operation once; the orchestrator repeats passes
on durable timers until every item has settled. A pass may run twice (retry, replay): DELETE and cancel are
idempotent, and an item whose resource is already gone counts as removed.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError

from shared.azure.ml_workload import FAILED, RUNNING, WorkloadGateway, refusal

REMOVED, CANCELED, REMOVE_FAILED = "removed", "canceled", "remove-failed"
QUIESCED = frozenset({REMOVED, CANCELED, REMOVE_FAILED})
# A refused request is retried on the next pass this many times when ARM's answer is transient (429 / 5xx).
MAX_ATTEMPTS = 5


def resource_id(workspace_id: str, item: dict[str, Any], name: str | None = None) -> str:
    """The item's resource id in a workspace (`name` overrides the item's own, for renamed compute instances)."""
    name = name or item["name"]
    kind = item["kind"]
    if kind == "compute":
        return f"{workspace_id}/computes/{name}"
    if kind in ("endpoint", "traffic"):
        return f"{workspace_id}/onlineEndpoints/{item.get('endpoint') or name}"
    if kind == "deployment":
        return f"{workspace_id}/onlineEndpoints/{item['endpoint']}/deployments/{name}"
    return f"{workspace_id}/jobs/{name}"


def quiesce_pass(gw: WorkloadGateway, workspace_id: str, items: list[dict[str, Any]]) -> bool:
    """Advance every item one step (in place); True when all have settled (removed, canceled or remove-failed)."""
    for item in items:
        if item["state"] in QUIESCED or item["kind"] in ("deployment", "traffic"):
            continue
        if item["kind"] == "job":
            _cancel(gw, workspace_id, item)
        else:
            _remove(gw, workspace_id, item)
    endpoints = {i["name"]: i["state"] for i in items if i["kind"] == "endpoint"}
    for item in items:  # deployments and the traffic split go with their endpoint
        if item["kind"] in ("deployment", "traffic") and item["state"] not in QUIESCED:
            if endpoints.get(item["endpoint"]) == REMOVED:
                item["state"] = REMOVED
            elif endpoints.get(item["endpoint"]) == REMOVE_FAILED:
                item.update(state=REMOVE_FAILED, error=f"its endpoint {item['endpoint']} could not be deleted")
    return all(i["state"] in QUIESCED for i in items)


def _remove(gw: WorkloadGateway, workspace_id: str, item: dict[str, Any]) -> None:
    rid = resource_id(workspace_id, item)
    if item["state"] == "removing" and item.get("operation"):
        progress = gw.follow(item["operation"], item.get("operationKind") or "location")
        if progress.status == RUNNING:
            return
        item["operation"] = None
        if progress.status == FAILED:
            if gw.find(rid) is None:  # the resource is the judge, whatever its operation said
                item.update(state=REMOVED, error=None)
            else:
                _failed(item, REMOVE_FAILED, f"the delete failed: {progress.message}")
            return
    if item["state"] == "removing":
        body = gw.find(rid)
        if body is None:
            item.update(state=REMOVED, error=None)
            return
        if str((body.get("properties") or {}).get("provisioningState", "")).lower() == "deleting":
            return  # ARM is still deleting it; look again on the next pass
    params = {}
    if item["kind"] == "compute":  # attached computes are detached: the resource behind them stays (Compute_Delete)
        params["underlyingResourceAction"] = "Detach" if item.get("attached") else "Delete"
    try:
        started = gw.delete(rid, **params)
    except HttpResponseError as exc:
        refused(item, exc, REMOVE_FAILED, "the delete was refused")
        return
    if started.status == 404:
        item.update(state=REMOVED, error=None)
    else:
        item.update(state="removing", operation=started.operation, operationKind=started.operation_kind)


def _cancel(gw: WorkloadGateway, workspace_id: str, item: dict[str, Any]) -> None:
    rid = resource_id(workspace_id, item)
    if item["state"] == "canceling":
        if item.get("operation"):
            progress = gw.follow(item["operation"], item.get("operationKind") or "location")
            if progress.status == RUNNING:
                return
            item["operation"] = None
        body = gw.find(rid)
        status = str(((body or {}).get("properties") or {}).get("status", "")).lower()
        if body is None or status in ("canceled", "completed", "failed", "notresponding"):
            item.update(state=CANCELED, error=None)
        return
    try:
        started = gw.cancel_job(rid)
    except HttpResponseError as exc:
        if exc.status_code == 404:
            item.update(state=CANCELED, error=None)
            return
        refused(item, exc, REMOVE_FAILED, "the cancel was refused")
        return
    item.update(state="canceling", operation=started.operation, operationKind=started.operation_kind)


def refused(item: dict[str, Any], exc: HttpResponseError, failed_state: str, what: str) -> None:
    """A 4xx is final; 429 / 5xx (after the pipeline's own retries) is tried again on later passes, up to a bound."""
    status = exc.status_code or 0
    item["attempts"] = int(item.get("attempts") or 0) + 1
    reason = f"{what}: {refusal(exc)}"
    if (status == 429 or status >= 500) and item["attempts"] < MAX_ATTEMPTS:
        item["error"] = reason
        return
    _failed(item, failed_state, reason)


def _failed(item: dict[str, Any], state: str, reason: str) -> None:
    item.update(state=state, error=reason, operation=None)


