"""What a waiting step of a move says: `waitingFor` (text), `nextCheckAt` and `deadline` (ISO 8601 UTC, `Z`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.moves import operations as ops
from shared.moves.plan import MovePlan
from shared.moves.store import MoveRecord, iso, utcnow

WAIT_FIELDS = ("waitingFor", "nextCheckAt", "deadline")
_OPERATION_TEXT = {
    "validate": "ARM's validateMoveResources operation to finish (both resource groups are checked)",
    "move": "ARM's moveResources operation to finish (both resource groups are locked until it does)",
}


def waiting(waiting_for: str, next_check: datetime | None, deadline: datetime | None) -> dict[str, Any]:
    """The three fields of a waiting step; the next check is never after the deadline."""
    if next_check is not None and deadline is not None:
        next_check = min(next_check, deadline)
    return {"waitingFor": waiting_for, "nextCheckAt": iso(next_check), "deadline": iso(deadline)}


def clear_waiting(step: dict[str, Any] | None) -> None:
    """A step that stopped waiting drops the three fields."""
    for name in WAIT_FIELDS:
        (step or {}).pop(name, None)


def operation_wait(record: MoveRecord, plan: MovePlan, phase: str, status: ops.OperationStatus) -> dict[str, Any]:
    """An ARM operation being polled: the next poll as the orchestrator computes it (Retry-After within the
    bounds), the deadline from the step's start (ARM allows a move 4 hours)."""
    timing = plan.timing
    delay = ops.next_poll_delay(status, fallback=timing.poll_fallback_seconds, minimum=timing.min_poll_seconds,
                                maximum=timing.max_poll_seconds)
    now = utcnow()
    step = record.step(phase) or {}
    started = _parse(step.get("startedAt")) or now
    return waiting(_OPERATION_TEXT.get(phase, f"ARM's {phase} operation"), now + timedelta(seconds=delay),
                   started + timedelta(seconds=timing.operation_deadline_seconds))


def approval_wait(not_approved: int, interval_seconds: int | None, deadline: str | None) -> dict[str, Any]:
    """The private-endpoint approval wait (monitor pattern): the next round and when the orchestration gives up."""
    end = _parse(deadline)
    next_check = utcnow() + timedelta(seconds=interval_seconds) if interval_seconds is not None else None
    text = (f"{not_approved} re-created private endpoint connection(s) to appear and be approved in the moved "
            "workspace")
    return waiting(text, next_check, end)


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
