"""Move validation: the preflight report, the optional target group creation, and ARM validateMoveResources."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError

from shared import logs
from shared.azure.arm_ids import ResourceGroupId, ResourceId
from shared.azure.clients import AzureClients
from shared.errors import ApiError, describe_azure_error, redact
from shared.moves import quiesce_rules
from shared.moves.preflight import FAILED, PASSED, CheckResult, evaluate, result
from shared.moves.request import MoveRequest, check_allowed
from shared.moves.snapshot import MAX_WORKERS, MoveSnapshot, read_snapshot
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.move_validation")
ARM_VALIDATE_TIMEOUT_SECONDS = 180.0
# Poll delay when ARM sends no (or a zero) Retry-After; None keeps the client's own interval.
ARM_POLL_SECONDS: float | None = None
_MAX_REASONS = 50


@dataclass
class MoveReport:
    """The preflight outcome: the HTTP 200 of /api/moves/validate and the 422 of /api/moves."""

    ready: bool
    checks: list[CheckResult]
    arm_validation: dict[str, Any]
    resources: list[str]  # the ids to move, the workspace first
    workspace_location: str | None = None
    target_resource_group_created: bool = False

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def _items(self, check_id: str) -> list[dict[str, Any]]:
        found = self.check(check_id)
        return [dict(item) for item in found.items] if found else []

    @property
    def private_endpoints(self) -> list[dict[str, Any]]:
        """Pre-move connections: {"id", "name", "privateEndpointId", "status"}."""
        return self._items("private-endpoints.reapproval")

    @property
    def nondefault_datastores(self) -> list[dict[str, Any]]:
        """{"id", "name", "type", "subscriptionId", "resourceGroup"}; never secrets."""
        return self._items("datastores.nondefault")

    @property
    def role_assignments(self) -> list[dict[str, Any]]:
        """Assignments at workspace scope: {"id", "principalId", "principalType", "roleDefinitionId"}."""
        return self._items("role-assignments.not-moved")

    def to_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "checks": [c.to_json() for c in self.checks],
            "armValidation": dict(self.arm_validation),
            "resources": list(self.resources),
            "workspaceLocation": self.workspace_location,
            "targetResourceGroupCreated": self.target_resource_group_created,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "MoveReport":
        return cls(
            ready=bool(body["ready"]),
            checks=[CheckResult.from_json(c) for c in body["checks"]],
            arm_validation=dict(body["armValidation"]),
            resources=list(body.get("resources") or ()),
            workspace_location=body.get("workspaceLocation"),
            target_resource_group_created=bool(body.get("targetResourceGroupCreated")),
        )


def validate_move(
    clients: AzureClients,
    settings: Settings,
    request: MoveRequest,
    *,
    now: datetime | None = None,
    max_workers: int = MAX_WORKERS,
) -> MoveReport:
    """Every documented precondition, then (if none failed) ARM validateMoveResources; one report.

    Raises ApiError 403 for a target outside the allow-list (before any ARM call) and 404 for a missing workspace.
    """
    check_allowed(request, settings)
    snapshot = read_snapshot(clients, request, max_workers=max_workers)
    if snapshot.workspace.ok and snapshot.workspace.value is None:
        raise ApiError(404, "WorkspaceNotFound", f"workspace {request.workspace.id} does not exist", "workspaceId")
    checks = evaluate(snapshot, now=now)
    created = False
    if _should_create_group(snapshot, checks):
        checks, created = _create_target_group(clients, snapshot, checks)

    resources = move_resources(snapshot)
    if any(c.status == FAILED for c in checks):
        failed = [c.id for c in checks if c.status == FAILED]
        arm = {"status": "skipped", "message": f"not run because these checks failed: {', '.join(failed)}"}
    elif request.quiesce and quiesce_rules.defers_arm_validation(checks):  # issue 17
        arm = {"status": "deferred", "message": "ARM refuses a workspace with computes or online endpoints: "
               "validateMoveResources runs after the quiesce; if it fails, everything is re-created at the source"}
    else:
        arm = arm_validate(clients, request.source, request.target, resources)

    ready = not any(c.blocks for c in checks) and arm.get("status") in ("succeeded", "deferred")
    log.info(
        "move validation of %s to %s: ready=%s failed=%s skipped=%s arm=%s",
        request.workspace.id,
        request.target.id,
        ready,
        [c.id for c in checks if c.status == FAILED],
        [c.id for c in checks if c.status == "skipped"],
        arm.get("status"),
        extra=logs.fields(kind="move.validated", workspace_id=request.workspace.id, target_id=request.target.id,
                          state="Ready" if ready else "NotReady"),
    )
    location = snapshot.workspace.value.location if snapshot.workspace.value is not None else None
    return MoveReport(ready, checks, arm, resources, workspace_location=location, target_resource_group_created=created)


def move_resources(snapshot: MoveSnapshot) -> list[str]:
    """The workspace, the requested extra resources, and its own dependencies in its group when asked for."""
    request = snapshot.request
    ids: list[ResourceId] = [request.workspace, *request.include_resources]
    if request.include_associated and snapshot.workspace.value is not None:
        for dependency in snapshot.workspace.value.dependency_ids.values():
            try:
                rid = ResourceId.parse(dependency)
            except ValueError:
                continue
            if rid.resource_group_id == request.source and rid not in ids:
                ids.append(rid)
    return [rid.id for rid in ids]


def _should_create_group(snapshot: MoveSnapshot, checks: list[CheckResult]) -> bool:
    missing = snapshot.target_group.ok and snapshot.target_group.value is None
    if not (snapshot.request.create_target_resource_group and missing):
        return False
    return not any(c.blocks for c in checks if c.id != "target.resource-group")


def _create_target_group(
    clients: AzureClients, snapshot: MoveSnapshot, checks: list[CheckResult]
) -> tuple[list[CheckResult], bool]:
    cid, target, location = "target.resource-group", snapshot.request.target, snapshot.workspace.value.location
    try:
        clients.resources(target.subscription_id).resource_groups.create_or_update(target.name, {"location": location})
        outcome, created = result(cid, PASSED, f"{target.id} did not exist and was created in {location}"), True
    except AzureError as exc:
        why = describe_azure_error(exc)
        outcome, created = result(cid, FAILED, f"{target.id} does not exist and could not be created: {why}"), False
    return [outcome if c.id == cid else c for c in checks], created


def arm_validate(
    clients: AzureClients,
    source: ResourceGroupId,
    target: ResourceGroupId,
    resources: list[str],
    *,
    timeout: float = ARM_VALIDATE_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """ARM validateMoveResources, polled to its end; never raises for an Azure fault.

    `{"status": "succeeded"|"failed"|"throttled"|"error",
      "error"?: {"code", "message", "reasons": [{"target", "code", "message"}]}}`
    """
    body = {"resources": list(resources), "targetResourceGroup": target.id}
    polling = {} if ARM_POLL_SECONDS is None else {"polling_interval": ARM_POLL_SECONDS}
    try:
        operations = clients.resources(source.subscription_id).resources
        poller = operations.begin_validate_move_resources(source.name, body, **polling)
        poller.result(timeout=timeout)
        if not poller.done():
            message = f"ARM did not finish validating within {timeout:g}s; try again later"
            return {"status": "error", "error": {"code": "Timeout", "message": message, "reasons": []}}
        return {"status": "succeeded"}
    except HttpResponseError as exc:
        error, status = _arm_error(exc), exc.status_code or 0
        if status == 429:
            error["message"] = f"ARM kept throttling the validation after bounded retries: {error['message']}"
            return {"status": "throttled", "error": error}
        return {"status": "failed" if 400 <= status < 500 else "error", "error": error}
    except AzureError as exc:  # connection failures and timeouts, after the pipeline's retries
        error = {"code": type(exc).__name__, "message": describe_azure_error(exc), "reasons": []}
        return {"status": "error", "error": error}


def _arm_error(exc: HttpResponseError) -> dict[str, Any]:
    """code, message and per-resource reasons from an ARM error body (error.details, flattened)."""
    payload: dict[str, Any] = {}
    try:
        text = exc.response.text() if exc.response is not None else ""
        payload = (json.loads(text) or {}).get("error") or {} if text else {}
    except (ValueError, AttributeError, TypeError):
        payload = {}
    if not payload and exc.error is not None:
        payload = {
            "code": exc.error.code,
            "message": exc.error.message,
            "details": [{"code": d.code, "message": d.message, "target": d.target} for d in exc.error.details or ()],
        }
    code = str(payload.get("code") or exc.reason or f"HTTP{exc.status_code}")
    message = redact(str(payload.get("message") or describe_azure_error(exc)))
    reasons = _reasons(payload.get("details") or [])
    if not reasons:
        reasons = [{"target": payload.get("target"), "code": code, "message": message}]
    return {"code": code, "message": message, "reasons": reasons[:_MAX_REASONS]}


def _reasons(details: list[Any], parent_target: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for detail in details:
        if not isinstance(detail, dict):
            continue
        target = detail.get("target") or parent_target
        nested = detail.get("details") or []
        if nested:
            found.extend(_reasons(nested, target))
        else:
            message = redact(str(detail.get("message") or ""))
            found.append({"target": target, "code": detail.get("code"), "message": message})
    return found
