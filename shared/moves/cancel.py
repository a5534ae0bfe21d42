"""Cancelling a move: the request body, which states allow it, and the audit entry on the move's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.errors import ApiError
from shared.moves.plan import FAILED, MOVING, NEEDS_ATTENTION, POST_MOVE, VALIDATING
from shared.moves.store import MoveRecord, iso, utcnow
from shared.moves.waiting import clear_waiting
from shared.untrusted_input import audit_note, audit_text, reject_unknown

CANCEL_STEP = "cancellation"
# The work after ARM's move, in order; a cancel after the move lists each one not finished in leftToDo.
POST_MOVE_STEPS = {
    "restore": "re-create the removed computes / online endpoints in the moved workspace (see `workload`)",
    "private-endpoints": "approve the re-created private endpoint connections of the moved workspace",
    "datastores": "check the moved workspace's datastores and re-register those that still name the old subscription",
    "role-assignments": "re-create the role assignments the workspace had before the move",
}
_FIELDS = ("reason", "requestedBy")


@dataclass(frozen=True)
class CancelRequest:
    """Why (required) and, optionally, who the caller says asks: kept only as a note beside `canceledBy`, the
    signed-in principal (docs/auth.md). Both secret-free."""

    reason: str
    requested_by: str | None = None


def parse_cancel(body: dict[str, Any]) -> CancelRequest:
    """`{"reason": str, "requestedBy"?: str}` (1..500 characters each) or ApiError(400) naming the field."""
    reject_unknown(body, _FIELDS)
    return CancelRequest(audit_text(body, "reason"), audit_note(body, "requestedBy"))


def check_cancellable(record: MoveRecord) -> None:
    """409 unless the move is Validating or PostMove: a finished move has nothing to cancel, and ARM offers no way
    to stop a moveResources operation once started (it runs to its end, up to 4 hours, both groups locked)."""
    if record.step(CANCEL_STEP) is not None:
        raise ApiError(409, "MoveAlreadyCancelled", f"move {record.move_id} was cancelled already", "moveId")
    if record.state == MOVING:
        raise ApiError(
            409,
            "MoveNotCancellable",
            f"move {record.move_id} is Moving: ARM cannot stop a started move; wait for it to finish",
            "moveId",
        )
    if record.state not in (VALIDATING, POST_MOVE):
        raise ApiError(409, "MoveFinished", f"move {record.move_id} is {record.state}; nothing to cancel", "moveId")


def mark_cancelled(record: MoveRecord, request: CancelRequest, *, now: datetime | None = None,
                   canceled_by: dict[str, Any] | None = None) -> None:
    """The audit entry (step `cancellation`: `canceledBy` the signed-in caller as shared.auth.Caller.record gives
    it, `requestedByNote` the body's claim if any, when, why) and the verdict: Failed before the move, NeedsAttention
    after it (the workspace moved; the post-move work stopped part way)."""
    now = now or utcnow()
    moved = record.state == POST_MOVE
    who = canceled_by or {"via": "unknown"}
    record.put_step(CANCEL_STEP, "succeeded", at=now, canceledBy=who, requestedByNote=request.requested_by,
                    reason=request.reason)
    for step in record.steps:
        if step["status"] in ("running", "starting"):
            clear_waiting(step)  # it waits no more
            record.put_step(step["name"], "incomplete", at=now)
    if moved:
        _record_skipped(record)
    record.state = NEEDS_ATTENTION if moved else FAILED
    record.error = {
        "code": "Cancelled",
        "message": f"cancelled by {_label(who, request)} at {iso(now)}: {request.reason}",
        "reasons": [],
        "phase": "post-move" if moved else "validate",
    }
    record.finished_at = record.finished_at or now


def _label(who: dict[str, Any], request: CancelRequest) -> str:
    if who.get("via") == "entra":
        return str(who.get("name") or who.get("appId") or who.get("objectId"))
    note = f" (says: {request.requested_by})" if request.requested_by else ""
    return f"a function-key holder{note}"


def is_cancelled(record: MoveRecord | None) -> bool:
    return record is not None and record.step(CANCEL_STEP) is not None


def _record_skipped(record: MoveRecord) -> None:
    """ARM moved the workspace: the row says where it is now and lists every post-move step the cancel skipped."""
    result = dict(record.result or {})
    name = record.workspace_id.rstrip("/").rsplit("/", 1)[-1]
    result["targetWorkspaceId"] = (
        f"{record.target_resource_group_id}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
    )
    todo = [item for item in result.get("leftToDo") or () if item.get("kind") != "post-move-step-skipped"]
    quiesced = bool((record.request or {}).get("quiesce"))
    for step, what in POST_MOVE_STEPS.items():
        if step == "restore" and not quiesced:
            continue
        status = (record.step(step) or {}).get("status")
        if status != "succeeded":
            todo.append({"kind": "post-move-step-skipped", "target": step,
                         "message": f"the move was cancelled before the {step} step finished: {what} by hand"})
    result["leftToDo"] = todo
    record.result = result
