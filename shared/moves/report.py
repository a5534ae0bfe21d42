"""The move's verdict: final state, what is left for a person (each item said), and the status view of a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.moves.plan import FAILED, NEEDS_ATTENTION, SUCCEEDED, MovePlan
from shared.moves.store import MoveRecord, iso

# Datastore / role assignment outcomes that leave work for a person.
_DATASTORE_TODO = {"needs-fix", "fix-failed", "recreate-failed", "missing"}
_ROLE_TODO = {"not-moved", "recreate-failed"}


@dataclass(frozen=True)
class Outcome:
    """What the orchestration learnt, handed to the final activity (all JSON-safe, no secret)."""

    moved: bool = False
    phase: str = "snapshot"
    error: dict[str, Any] | None = None
    approvals: dict[str, Any] | None = None
    datastores: list[dict[str, Any]] | None = None
    role_assignments: list[dict[str, Any]] | None = None
    step_errors: dict[str, str] | None = None
    unknown: bool = False  # ARM did not say where the workspace is by the deadline (shared/moves/whereabouts.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "moved": self.moved,
            "phase": self.phase,
            "error": self.error,
            "approvals": self.approvals,
            "datastores": self.datastores,
            "roleAssignments": self.role_assignments,
            "stepErrors": self.step_errors or {},
            "unknown": self.unknown,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "Outcome":
        return cls(
            bool(body.get("moved")),
            body.get("phase") or "snapshot",
            body.get("error"),
            body.get("approvals"),
            body.get("datastores"),
            body.get("roleAssignments"),
            body.get("stepErrors") or {},
            bool(body.get("unknown")),
        )


@dataclass(frozen=True)
class Conclusion:
    state: str
    left_to_do: tuple[dict[str, str], ...]
    result: dict[str, Any]


def conclude(plan: MovePlan, outcome: Outcome, inventory: dict[str, Any] | None) -> Conclusion:
    """Failed when the move did not happen; NeedsAttention when anything is left for a person; else Succeeded."""
    result: dict[str, Any] = {"targetWorkspaceId": plan.target_workspace.id if outcome.moved else None}
    if plan.request.quiesce:  # what was removed / re-created, and what could not be (shared/moves/workload/todo.py)
        from shared.moves.workload.todo import workload_result

        quiesced = workload_result(plan, inventory, moved=outcome.moved)
        result.update(quiesced.result)
    if not outcome.moved and outcome.unknown:  # neither moved nor not moved: a person looks, nothing compensated
        todo = [_item("check-move", plan.request.workspace.id, (outcome.error or {}).get("message")
                      or "ARM did not say where the workspace is")]
        if plan.request.quiesce:
            todo.extend(quiesced.left_to_do)
        result["leftToDo"] = todo
        return Conclusion(NEEDS_ATTENTION, tuple(todo), result)
    if not outcome.moved:
        if plan.request.quiesce:
            result["leftToDo"] = list(quiesced.left_to_do)
            return Conclusion(FAILED, quiesced.left_to_do, result)
        return Conclusion(FAILED, (), result)
    todo: list[dict[str, str]] = []
    approvals = outcome.approvals or {}
    result["privateEndpoints"] = approvals.get("endpoints") or []
    result["foreignConnections"] = approvals.get("foreign") or []
    for entry in result["privateEndpoints"]:
        if entry.get("status") != "Approved" and entry.get("statusBeforeMove", "Approved") == "Approved":
            todo.append(
                _item(
                    "approve-private-endpoint",
                    entry.get("connectionId") or entry["privateEndpointId"],
                    _endpoint_message(entry, plan),
                )
            )
    for entry in result["foreignConnections"]:
        todo.append(
            _item(
                "review-private-endpoint",
                entry["connectionId"],
                f"pending connection {entry['name']} from {entry.get('privateEndpointId')} did not exist before "
                "the move; it was left alone: approve or reject it",
            )
        )
    result["datastores"] = outcome.datastores or []
    for entry in result["datastores"]:
        if entry.get("status") in _DATASTORE_TODO:
            item = _item(
                "fix-datastore", entry["id"], f"datastore {entry['name']}: {entry.get('message', entry['status'])}"
            )
            if entry.get("redo"):
                item["redo"] = entry["redo"]  # everything needed to register it again by hand; never a secret
            todo.append(item)
    result["roleAssignments"] = outcome.role_assignments or []
    for entry in result["roleAssignments"]:
        if entry.get("status") in _ROLE_TODO:
            todo.append(
                _item(
                    "recreate-role-assignment",
                    entry["scope"],
                    f"{entry.get('principalType') or 'principal'} {entry['principalId']} had role "
                    f"{entry['roleDefinitionId'].rsplit('/', 1)[-1]} here: {entry.get('message', entry['status'])}",
                )
            )
    if plan.request.quiesce:
        todo.extend(quiesced.left_to_do)
    for child in [] if plan.request.quiesce else (inventory or {}).get("computes") or []:
        todo.append(
            _item(
                "recreate-compute",
                plan.moved_id(child["id"]),
                f"compute {child['name']} ({child['kind']}) existed before the move; re-create it under a NEW name "
                "(re-creating a compute instance under its old name fails after a move, a known issue of the move "
                "page)",
            )
        )
    for child in [] if plan.request.quiesce else (inventory or {}).get("endpoints") or []:
        todo.append(
            _item(
                "recreate-endpoint",
                plan.moved_id(child["id"]),
                f"{child['kind']} {child['name']} existed before the move; re-create it",
            )
        )
    for step, reason in (outcome.step_errors or {}).items():
        todo.append(_item("post-move-step-failed", step, f"the {step} step could not finish: {reason}; do it by hand"))
    result["leftToDo"] = todo
    return Conclusion(NEEDS_ATTENTION if todo else SUCCEEDED, tuple(todo), result)


def _endpoint_message(entry: dict[str, Any], plan: MovePlan) -> str:
    name, status = entry.get("name"), entry.get("status")
    if status == "Missing":
        return (
            f"connection {name} from {entry['privateEndpointId']} was not re-created before the approval deadline; "
            "check the private endpoint, then approve it"
        )
    if plan.request.approve_private_endpoints == "none":
        return f"connection {name} is {status}; approve it (approvePrivateEndpoints was 'none')"
    note = f" ({entry['note']})" if entry.get("note") else ""
    return f"connection {name} is {status} after the approval deadline{note}; approve it"


def _item(kind: str, target: str, message: str) -> dict[str, str]:
    return {"kind": kind, "target": target, "message": message}


def endpoint_states(result: dict[str, Any]) -> dict[str, Any] | None:
    """Counts of the re-created connections as last seen (during the wait too): approved, pending, missing, and
    foreign pending ones; `checkedAt` is that look. None before the first look after the move."""
    if "privateEndpointsCheckedAt" not in result and "privateEndpoints" not in result:
        return None
    statuses = [str(e.get("status") or "").lower() for e in result.get("privateEndpoints") or ()]
    return {
        "approved": statuses.count("approved"),
        "pending": statuses.count("pending"),
        "missing": statuses.count("missing"),
        "other": sum(1 for s in statuses if s not in ("approved", "pending", "missing")),
        "foreign": len(result.get("foreignConnections") or ()),
        "checkedAt": result.get("privateEndpointsCheckedAt"),
    }


def view_head(record: MoveRecord, base_url: str | None = None) -> dict[str, Any]:
    """The fields every view of a move starts with, in this order: `moveId`, `statusUrl` (absolute, only when
    `base_url`, the app's `scheme://host`, is given), `workspaceId`, `targetResourceGroupId`, `targetWorkspaceId`
    (None until the move happened), `state`, `startedAt` / `updatedAt` / `finishedAt` (ISO 8601 UTC or None)."""
    return {
        "moveId": record.move_id,
        **({"statusUrl": f"{base_url}/api/moves/{record.move_id}"} if base_url else {}),
        "workspaceId": record.workspace_id,
        "targetResourceGroupId": record.target_resource_group_id,
        "targetWorkspaceId": (record.result or {}).get("targetWorkspaceId"),
        "state": record.state,
        "startedAt": iso(record.started_at),
        "updatedAt": iso(record.updated_at),
        "finishedAt": iso(record.finished_at),
    }


def status_view(record: MoveRecord, base_url: str | None = None) -> dict[str, Any]:
    """The `GET /api/moves/{moveId}` body: what a pipeline or a person needs, nothing internal; `statusUrl` is
    absolute (`base_url` is the app's `scheme://host`)."""
    result = record.result or {}
    snapshot = record.snapshot or {}
    return {
        **view_head(record, base_url),
        "request": record.request,
        "requestedBy": record.requested_by,  # from the sign-in, never from the body (docs/auth.md)
        "steps": record.steps,
        "privateEndpoints": result.get("privateEndpoints", snapshot.get("privateEndpoints", [])),
        "foreignConnections": result.get("foreignConnections", []),
        "privateEndpointStates": endpoint_states(result),
        "datastores": result.get("datastores", snapshot.get("datastores", [])),
        "roleAssignments": result.get("roleAssignments", snapshot.get("roleAssignments", [])),
        "leftToDo": result.get("leftToDo", []),
        "workload": _workload_view(snapshot),  # each removed / re-created item with its state
        "renamedComputes": result.get("renamedComputes", {}),
        "snapshot": snapshot or None,
        "error": record.error,
    }


def _workload_view(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    from shared.moves.workload.passes import view

    return view(snapshot)
