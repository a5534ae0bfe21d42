"""The durable move's orchestrator body: admit, snapshot, quiesce, validate, move, post-move chores, finish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generator

import azure.durable_functions as df

from handlers import move_workload
from handlers.move_await import UNKNOWN, await_move, lock_delay
from handlers.move_orchestration import (
    ADMIT,
    APPROVE,
    DATASTORES,
    FINISH,
    LOCATE,
    POLL,
    ROLE_ASSIGNMENTS,
    SNAPSHOT,
    START_MOVE,
    START_VALIDATION,
)
from shared.errors import redact
from shared.moves.operations import FAILED, TRANSIENT, WAITING, OperationStatus, next_poll_delay
from shared.moves.plan import DEFAULT_TIMING, MovePlan, MoveTiming
from shared.times import iso_z


def run(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict]:
    """The move from its plan (the orchestration input) to its report (move_finish's answer)."""
    raw = context.get_input()
    # The input is not trusted (anyone holding the system or master key can start this orchestrator): the first
    # activity re-checks it, with fixed retries, and a refusal ends the instance Failed before any ARM call or write.
    fixed = df.RetryOptions(DEFAULT_TIMING.retry_first_ms, DEFAULT_TIMING.retry_attempts)
    admission = yield context.call_activity_with_retry(ADMIT, fixed, {"plan": raw, "instanceId": context.instance_id})
    if not admission.get("admitted"):
        raise PlanRefused(f"{admission.get('code')}: {admission.get('reason')}")
    timing = MovePlan.from_json(raw).timing
    retry = df.RetryOptions(timing.retry_first_ms, timing.retry_attempts)

    def call(name: str, **payload: Any) -> Any:
        return context.call_activity_with_retry(name, retry, {"plan": raw, **payload})

    quiesce = MovePlan.from_json(raw).request.quiesce
    outcome: dict[str, Any] = {"moved": False, "phase": "snapshot", "error": None, "stepErrors": {}}
    operation: dict[str, Any] = {"status": "failed"}
    try:
        inventory = yield call(SNAPSHOT)
        operation = {"status": "succeeded"}
        if quiesce:  # remove computes / endpoints first (handlers/move_workload.py)
            outcome["phase"] = "quiesce"
            operation = yield from move_workload.quiesce(context, call, timing, outcome)
        if operation["status"] == "succeeded":
            outcome["phase"] = "validate"
            started = yield call(START_VALIDATION, inventory=inventory)
            operation = yield from _await_operation(context, call, "validate", started, timing)
        if operation["status"] == "succeeded":
            outcome["phase"] = "move"
            started = yield call(START_MOVE)
            operation = yield from await_move(context, call, started, timing)
        if operation["status"] != "succeeded":
            outcome["error"] = operation.get("error")
            outcome["unknown"] = operation["status"] == UNKNOWN
    except Exception as exc:  # an activity failed after its retries: the move ends in a clear state, not a crash
        outcome["error"] = {"code": "StepFailed", "message": _reason(exc), "reasons": []}
        operation = {"status": "failed"}
        if outcome["phase"] == "move":  # POST moveResources may have gone out: where is the workspace?
            where = yield from _locate(context, call)
            operation = {"status": "succeeded"} if where == "target" else operation
            outcome["unknown"] = where not in ("target", "source")
    if operation["status"] == "succeeded":
        outcome.update(moved=True, phase="post-move", error=None, unknown=False)
        if quiesce:  # re-create the workload where the workspace is now, before the other chores
            yield from move_workload.restore(context, call, timing, outcome, "restore")
        yield from _after_move(context, call, inventory, timing, outcome)
    elif quiesce and not outcome.get("unknown") and outcome.get("workloadSnapshotted"):  # compensation, at the source
        yield from move_workload.restore(context, call, timing, outcome, "compensate")
    return (yield call(FINISH, outcome=outcome))


def _locate(context: df.DurableOrchestrationContext, call: Any):
    try:
        return (yield call(LOCATE))["where"]
    except Exception:  # ARM or storage unreachable after the retries: unknown, nothing is compensated
        return UNKNOWN


class PlanRefused(Exception):
    """The orchestration input did not pass the admission check; the instance ends Failed, nothing written."""


def _await_operation(
    context: df.DurableOrchestrationContext, call: Any, phase: str, operation: dict, timing: MoveTiming
):
    """Poll ARM's validation with durable timers honouring Retry-After, up to the deadline (ARM allows 4 hours;
    `lock_wait_deadline_seconds` while another move holds the groups). Nothing moves here, so a failure is Failed."""
    started = context.current_utc_datetime
    deadline = started + timedelta(seconds=timing.operation_deadline_seconds)
    lock_deadline = started + timedelta(
        seconds=max(timing.lock_wait_deadline_seconds, timing.operation_deadline_seconds))
    polls = transient = same = waits = 0
    last = None
    while operation["status"] in WAITING:
        transient = transient + 1 if operation["status"] == TRANSIENT else 0
        # ARM keeps answering a failed operation's error: the same 5xx a few times is that verdict.
        same = same + 1 if operation["status"] == TRANSIENT and operation.get("detail") == last else int(transient > 0)
        last = operation.get("detail") if operation["status"] == TRANSIENT else None
        now = context.current_utc_datetime
        limit = lock_deadline if operation.get("lockWait") else deadline
        if same >= timing.identical_failure_limit:
            return _failed("OperationFailed", f"the {phase} operation answered the same error {same} times in a "
                           f"row: {last}. Check both resource groups before retrying")
        if transient > timing.transient_poll_limit:
            return _failed(
                "PollFailed",
                f"{transient} polls of the {phase} operation failed in a row; "
                f"last: {operation.get('detail')}. Check the resource groups before retrying",
            )
        if now >= limit:
            return _failed(
                "OperationTimedOut",
                f"the {phase} operation did not finish within "
                f"{int((limit - started).total_seconds())}s; check both resource groups",
            )
        delay = next_poll_delay(
            OperationStatus.from_json(operation),
            fallback=timing.poll_fallback_seconds,
            minimum=timing.min_poll_seconds,
            maximum=timing.max_poll_seconds,
        )
        waits = waits + 1 if operation.get("lockWait") else 0
        delay = lock_delay(delay, waits, context.instance_id, timing)
        next_check = min(now + timedelta(seconds=delay), limit)
        yield context.create_timer(next_check)
        polls += 1
        operation = yield call(POLL, phase=phase, location=operation["location"], poll=polls, deadline=iso_z(limit))
    return operation


def _after_move(context: df.DurableOrchestrationContext, call: Any, inventory: dict, timing: MoveTiming, outcome: dict):
    """Monitor pattern for approvals, then datastores and role assignments; a failing step becomes an item to do."""
    try:
        deadline = context.current_utc_datetime + timedelta(seconds=timing.approval_deadline_seconds)
        round_number = 0
        while True:
            round_number += 1
            wait = {"deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "intervalSeconds": timing.approval_interval_seconds}
            outcome["approvals"] = yield call(APPROVE, inventory=inventory, round=round_number, wait=wait)
            now = context.current_utc_datetime
            if outcome["approvals"]["done"] or now >= deadline:
                break
            yield context.create_timer(min(now + timedelta(seconds=timing.approval_interval_seconds), deadline))
    except Exception as exc:
        outcome["stepErrors"]["private-endpoints"] = _reason(exc)
    for name, key, step in (
        (DATASTORES, "datastores", "datastores"),
        (ROLE_ASSIGNMENTS, "roleAssignments", "role-assignments"),
    ):
        try:
            outcome[key] = yield call(name, inventory=inventory)
        except Exception as exc:
            outcome["stepErrors"][step] = _reason(exc)


def _failed(code: str, message: str) -> dict:
    return {"status": FAILED, "error": {"code": code, "message": message, "reasons": []}}


def _reason(exc: BaseException) -> str:
    text = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return text[:500]
