"""Move validation: the preflight report, the optional target group creation, and ARM validateMoveResources."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError

from shared import logs
from shared.azure.arm_ids import ResourceId
from shared.azure.clients import AzureClients
from shared.errors import ApiError, describe_azure_error
from shared.moves.inventory_reuse import inventory_of
from shared.moves.preflight.arm_validation import validate_within
from shared.moves.preflight.group_cleanup import remove_created_group
from shared.moves.preflight.rules import FAILED, PASSED, CheckResult, evaluate, result
from shared.moves.request import MoveRequest, check_allowed
from shared.moves.snapshot import MAX_WORKERS, MoveSnapshot, read_snapshot
from shared.moves.store import utcnow
from shared.moves.workload import rules as quiesce_rules
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.move_validation")
# Poll delay when ARM sends no (or a zero) Retry-After; None: arm_validation's default.
ARM_POLL_SECONDS: float | None = None


@dataclass
class MoveReport:
    """The preflight outcome: the HTTP 200 of /api/moves/validate and the 422 of /api/moves."""

    ready: bool
    checks: list[CheckResult]
    arm_validation: dict[str, Any]
    resources: list[str]  # the ids to move, the workspace first
    workspace_location: str | None = None
    target_resource_group_created: bool = False
    target_resource_group_deleted: bool = False
    inventory: dict[str, Any] | None = None  # the pre-move inventory from this preflight's reads (not in the JSON)

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
            "targetResourceGroupDeleted": self.target_resource_group_deleted,
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
            target_resource_group_deleted=bool(body.get("targetResourceGroupDeleted")),
        )


def validate_move(
    clients: AzureClients,
    settings: Settings,
    request: MoveRequest,
    *,
    now: datetime | None = None,
    max_workers: int = MAX_WORKERS,
    arm: bool = True,
    bound: float | None = None,
) -> MoveReport:
    """Every documented precondition, then (if none failed and `arm`) ARM validateMoveResources for at most `bound`
    seconds; one report. `armValidation.status` is `running` (with the operation's `location`) when ARM has not
    answered within the bound, `deferred` when `arm` is false (the durable move validates first; no group is
    created then either).

    Raises ApiError 403 for a target outside the allow-list (before any ARM call) and 404 for a missing workspace.
    """
    check_allowed(request, settings)
    snapshot = read_snapshot(clients, request, max_workers=max_workers)
    if snapshot.workspace.ok and snapshot.workspace.value is None:
        raise ApiError(404, "WorkspaceNotFound", f"workspace {request.workspace.id} does not exist", "workspaceId")
    checks = evaluate(snapshot, now=now)
    created = False
    if arm and _should_create_group(snapshot, checks):
        checks, created = _create_target_group(clients, snapshot, checks)

    resources = move_resources(snapshot)
    wanted = arm
    if any(c.status == FAILED for c in checks):
        failed = [c.id for c in checks if c.status == FAILED]
        arm = {"status": "skipped", "message": f"not run because these checks failed: {', '.join(failed)}"}
    elif request.quiesce and quiesce_rules.defers_arm_validation(checks):
        arm = {"status": "deferred", "message": "ARM refuses a workspace with computes or online endpoints: "
               "validateMoveResources runs after the quiesce; if it fails, everything is re-created at the source"}
    elif not wanted:
        arm = {"status": "deferred", "message": "the move validates with ARM as its first step"}
    else:
        arm = validate_within(clients, request.source, request.target, resources, poll_seconds=ARM_POLL_SECONDS,
                              **({} if bound is None else {"bound": bound}))

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
    report = MoveReport(ready, checks, arm, resources, workspace_location=location,
                        target_resource_group_created=created, inventory=inventory_of(snapshot, now or utcnow()))
    return report if arm.get("status") == "running" else settle(clients, request, report)


def settle(clients: AzureClients, request: MoveRequest, report: MoveReport) -> MoveReport:
    """Once ARM has answered: a group this validation created is deleted again unless the move is ready."""
    if not report.target_resource_group_created or report.ready:
        return report
    deleted, note = remove_created_group(clients, request.target)
    cid = "target.resource-group"
    checks = [replace(c, message=f"{c.message}; {note}") if c.id == cid else c for c in report.checks]
    return replace(report, checks=checks, target_resource_group_deleted=deleted)


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
