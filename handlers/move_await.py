"""The orchestrator's wait for ARM's moveResources: polls on durable timers, verdicts from where the workspace is."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from handlers.move_orchestration import LOCATE, POLL
from shared.moves.operations import FAILED, SUCCEEDED, TRANSIENT, OperationStatus, next_poll_delay
from shared.moves.plan import MoveTiming
from shared.moves.whereabouts import AT_SOURCE, AT_TARGET
from shared.times import iso_z

UNKNOWN = "unknown"


def lock_delay(delay: int, waits: int, instance_id: str, timing: MoveTiming) -> int:
    """While another move holds the groups: back off (doubling from the fallback up to max_poll_seconds), spread by
    a per-instance offset so queued moves do not all ask ARM at the same second (deterministic: replay-safe)."""
    if waits <= 0:
        return delay
    spread = int(hashlib.sha256(instance_id.encode()).hexdigest()[:4], 16) % max(timing.poll_fallback_seconds, 1)
    return max(delay, min(timing.max_poll_seconds, timing.poll_fallback_seconds * 2 ** min(waits - 1, 10)) + spread)


def await_move(context: df.DurableOrchestrationContext, call: Any, operation: dict, timing: MoveTiming):
    """Poll the move until ARM settles it; returns `{"status": succeeded | failed | unknown, "error"?}`.

    A poll that cannot decide — the same 5xx `identical_failure_limit` times, `transient_poll_limit` failed polls,
    a failed operation, the deadline — is followed by a read of where the workspace is (shared/moves/whereabouts):
    at the target → succeeded (the post-move work runs); at the source after a failed operation or after the
    deadline → failed; otherwise keep polling on durable timers until the deadline, then `unknown`. While another
    move holds the groups (`lockWait`) the deadline is `lock_wait_deadline_seconds`; from the move's own start it is
    `operation_deadline_seconds` (ARM allows a move up to 4 hours).
    """
    lock_wait = bool(operation.get("lockWait"))
    started = context.current_utc_datetime
    deadline = started + timedelta(seconds=timing.lock_wait_deadline_seconds if lock_wait
                                   else timing.operation_deadline_seconds)
    polls = transient = same = checks = waits = 0
    last = None
    while True:
        status, now = operation["status"], context.current_utc_datetime
        if status == SUCCEEDED:
            return operation
        if lock_wait and not operation.get("lockWait"):  # the move itself started: ARM's 4 hours from now
            lock_wait = False
            deadline = now + timedelta(seconds=timing.operation_deadline_seconds)
        transient = transient + 1 if status == TRANSIENT else 0
        same = same + 1 if status == TRANSIENT and operation.get("detail") == last else int(transient > 0)
        last = operation.get("detail") if status == TRANSIENT else None
        undecided = status == FAILED or same >= timing.identical_failure_limit \
            or transient > timing.transient_poll_limit or now >= deadline
        if undecided:
            found = yield call(LOCATE)
            if found["where"] == AT_TARGET:
                return {"status": SUCCEEDED, "verifiedBy": "whereabouts"}
            if status == FAILED and (found["where"] == AT_SOURCE or not operation.get("location")):
                return operation  # ARM's verdict, and the workspace is where it says (a refused POST moved nothing)
            if now >= deadline:
                return _at_deadline(found, operation, timing)
            transient, same, checks = 0, 0, checks + 1  # not a verdict: keep checking, less and less often
        delay = next_poll_delay(OperationStatus.from_json(operation), fallback=timing.poll_fallback_seconds,
                                minimum=timing.min_poll_seconds, maximum=timing.max_poll_seconds)
        if checks:
            delay = max(delay, min(timing.max_poll_seconds, timing.poll_fallback_seconds * 2 ** min(checks, 10)))
        waits = waits + 1 if operation.get("lockWait") else 0
        delay = lock_delay(delay, waits, context.instance_id, timing)
        next_check = min(now + timedelta(seconds=delay), deadline)
        yield context.create_timer(next_check)
        polls += 1
        operation = yield call(POLL, phase="move", location=operation.get("location"), poll=polls,
                               deadline=iso_z(deadline))


def _at_deadline(found: dict, operation: dict, timing: MoveTiming) -> dict:
    answer = operation.get("detail") or (operation.get("error") or {}).get("message") or operation["status"]
    text = (f"source {found.get('source')}, target {found.get('target')}; ARM's move operation last answered: "
            f"{answer}")
    if found["where"] == AT_SOURCE:
        return {"status": FAILED, "error": {"code": "OperationTimedOut", "reasons": [], "message":
                f"the move did not finish within {timing.operation_deadline_seconds}s and the workspace is still at "
                f"the source ({text}); check both resource groups before retrying"}}
    return {"status": UNKNOWN, "error": {"code": "MoveOutcomeUnknown", "reasons": [], "message":
            f"ARM did not say where the workspace is after the deadline ({text}): check both resource groups; "
            "nothing was compensated"}}
