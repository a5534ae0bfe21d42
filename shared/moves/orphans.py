"""A move whose orchestration is gone (terminated, failed, lost with its storage): end its row from where ARM says
the workspace is, so the workspace's claim is released and a new move can start."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from shared.azure.clients import AzureClients
from shared.errors import ApiError
from shared.moves import operations as ops
from shared.moves.launch import RECREATE_FIELD, is_running, running_move_id
from shared.moves.plan import MOVING, TERMINAL_STATES, MovePlan
from shared.moves.report import Outcome, conclude
from shared.moves.request import MoveRequest
from shared.moves.store import MoveRecord, MovesStore, iso, utcnow
from shared.moves.whereabouts import AT_SOURCE, AT_TARGET, describe, locate

log = logging.getLogger("aml_lifecycle.moves")

# A row this fresh whose instance is not (yet) running may be a start in progress (row written, start_new pending).
START_GRACE = timedelta(minutes=2)
ENDED = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
STEP = "orphaned"


def plan_of(record: MoveRecord) -> MovePlan:
    """The plan a row was started with (its recorded request and resources)."""
    request = dict(record.request)
    resources = tuple(request.pop("resources", ()) or (record.workspace_id,))
    recreate = bool(request.pop(RECREATE_FIELD, False))
    return MovePlan(record.move_id, MoveRequest.from_json(request), resources, recreate)


def orchestration_gone(record: MoveRecord, status: Any, *, now: datetime | None = None) -> bool:
    """Whether the row is not terminal and no orchestration runs this move: the workspace's instance runs another
    move or nothing, or ended (Terminated / Failed / Completed) without writing the verdict. A row younger than
    START_GRACE with no instance at all may be a start in progress, so it is not taken for gone."""
    if record.state in TERMINAL_STATES:
        return False
    if is_running(status) and running_move_id(status) == record.move_id:
        return False
    runtime = getattr(getattr(status, "runtime_status", None), "value", None)
    if runtime in ENDED and running_move_id(status) == record.move_id:
        return True
    return (now or utcnow()) - record.updated_at > START_GRACE


def converge(clients: AzureClients, record: MoveRecord, *, by: dict[str, Any], reason: str, cancel: bool = False,
             note: str | None = None) -> MoveRecord:
    """Read where the workspace is (source / target GET) and end the row: at the target → NeedsAttention (it moved,
    the post-move work did not run: each chore is listed); at the source → Failed (nothing moved); unknown →
    NeedsAttention (`check-move`). Audited as step `orphaned` (who, why, what ARM said). 409
    `MoveStillRunningAtArm` while the recorded moveResources operation still runs at ARM (cancel again after it).
    `by` is the caller's record (shared.auth.Caller.record: the signed-in principal, never a body's claim); `note`
    what the body said of who asks, kept apart as a note."""
    plan = plan_of(record)
    found = locate(clients, plan)
    where = found["where"]
    if where == AT_SOURCE and record.state == MOVING and record.operation:
        status = ops.poll_operation(clients.arm_pipeline(), record.operation,
                                    arm_endpoint=clients.settings.arm_endpoint)
        if status.waiting:
            raise ApiError(409, "MoveStillRunningAtArm", f"ARM's moveResources of move {record.move_id} is still "
                           "running (both groups stay locked until it ends, up to 4 hours); try again after it ends",
                           "moveId")
    moved, unknown = where == AT_TARGET, where not in (AT_TARGET, AT_SOURCE)
    said = describe(found, plan)
    error = None if moved else {"code": "OrchestrationGone", "reasons": [], "phase": "orphaned",
                                "message": f"the move's orchestration ended without a verdict ({reason}); {said}"}
    conclusion = conclude(plan, Outcome(moved=moved, phase="orphaned", error=error, unknown=unknown),
                          record.snapshot)
    result = dict(conclusion.result)
    todo = list(result.get("leftToDo") or conclusion.left_to_do)
    if moved:
        todo = [{"kind": "post-move-not-run", "target": plan.target_workspace.id,
                 "message": "the workspace moved but the move's orchestration ended before the post-move work "
                            "(private endpoint approvals, datastores, role assignments"
                            + (", the workload's re-creation" if plan.request.quiesce else "") + "); do it by hand"}]
        todo.extend(conclusion.left_to_do)
    result["leftToDo"] = todo
    now = utcnow()

    def change(row: MoveRecord) -> None:
        if row.state in TERMINAL_STATES:
            return  # the orchestration wrote its verdict meanwhile: it stands
        row.put_step(STEP, "succeeded", at=now, requestedBy=by, reason=reason[:500], where=where, detail=said)
        if cancel:  # the operator's cancel: the same audit entry as any cancel
            row.put_step("cancellation", "succeeded", at=now, canceledBy=by, requestedByNote=note,
                         reason=reason[:500])
        for step in row.steps:
            if step["status"] in ("running", "starting", "waiting"):
                row.put_step(step["name"], "incomplete", at=now)
        row.state = "NeedsAttention" if moved or unknown else "Failed"
        row.error = error if not moved else {"code": "OrchestrationGone", "reasons": [], "phase": "post-move",
                                             "message": f"the post-move work did not run ({reason}); {said}"}
        row.result = result
        row.finished_at = row.finished_at or now

    record = MovesStore.of(clients).update(record.partition, record.move_id, change)
    log.warning("move %s: orchestration gone (%s); ARM says the workspace is at %s; row ended %s at %s",
                record.move_id, reason, where, record.state, iso(now))
    return record


def release_orphan(clients: AzureClients, subscription_id: str, move_id: str, status: Any,
                   by: dict[str, Any]) -> bool:
    """A new start found the workspace claimed by `move_id`: end that move's row if its orchestration is gone
    (`status` is the workspace instance's, not running; `by` the new move's caller). True when the claim is free."""
    record = MovesStore.of(clients).get(move_id, partition=subscription_id.lower())
    if record is None or not orchestration_gone(record, status):
        return False
    converge(clients, record, by=by, reason="a new move of the workspace found no orchestration running it")
    return True
