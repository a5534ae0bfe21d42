"""The long validation's orchestrator body: poll ARM's validateMoveResources on durable timers until it answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generator

import azure.durable_functions as df

from handlers.validation_orchestration import ADMIT
from shared.moves.operations import FAILED, OperationStatus, next_poll_delay
from shared.moves.preflight import validation_async as work


def run(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict]:
    """Monitor pattern: poll ARM's operation URL after a durable timer (its Retry-After, bounded) until it ends, the
    same 5xx repeats `identical_failure_limit` times, or the deadline passes; then the final report."""
    payload = context.get_input()
    # The input is not trusted (a system / master key can start this orchestrator with any input): admitted only
    # when it is what POST /api/moves/validate recorded for this id, its target allowed now; else no ARM call at all.
    admission = yield context.call_activity(ADMIT, {"payload": payload, "validationId": context.instance_id})
    if not admission.get("admitted"):
        raise ValidationRefused(f"{admission.get('code')}: {admission.get('reason')}")
    timing = work.ValidationTiming.from_json(payload.get("timing"))
    deadline = context.current_utc_datetime + timedelta(seconds=timing.deadline_seconds)
    operation: dict = {"status": "running", "location": payload["location"]}
    same, last = 0, None
    while operation["status"] in ("running", "throttled", "transient"):
        now = context.current_utc_datetime
        if now >= deadline:
            operation = {"status": "timeout", "detail": f"ARM did not finish within {timing.deadline_seconds}s"}
            break
        delay = next_poll_delay(OperationStatus.from_json(operation), fallback=timing.min_poll_seconds,
                                minimum=timing.min_poll_seconds, maximum=timing.max_poll_seconds)
        yield context.create_timer(min(now + timedelta(seconds=delay), deadline))
        operation = yield context.call_activity(work.POLL, {"location": operation["location"]})
        if operation["status"] == "transient":
            same = same + 1 if operation.get("detail") == last else 1
            last = operation.get("detail")
            if same >= timing.identical_failure_limit:
                operation = {"status": FAILED, "error": {"code": "OperationFailed", "reasons": [],
                                                         "message": f"ARM answered {same} times: {last}"}}
        else:
            same, last = 0, None
    return (yield context.call_activity(work.FINISH, {"payload": payload, "operation": operation,
                                                      "validationId": context.instance_id}))


class ValidationRefused(Exception):
    """The orchestration input did not pass admission; the instance ends Failed before any ARM call."""
