"""The move's quiesce option: its activities, and the orchestrator steps that drive them on durable timers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from handlers.cold_start import domain_imports
from handlers.telemetry import activity
from shared.errors import redact

if TYPE_CHECKING:
    from shared.moves.plan import MoveTiming

bp = df.Blueprint()

WORKLOAD_SNAPSHOT = "move_workload_snapshot"
WORKLOAD_STEP = "move_workload_step"
ACTIVITIES = (WORKLOAD_SNAPSHOT, WORKLOAD_STEP)


def quiesce(context: df.DurableOrchestrationContext, call: Any, timing: MoveTiming, outcome: dict):
    """Snapshot, then quiesce passes until settled. Returns an operation-like `{"status", "error"?}`: anything
    not removed fails the move (ARM would refuse it) and the caller compensates."""
    with domain_imports:
        from shared.moves.workload.passes import QUIESCE
    outcome["workloadSnapshotted"] = False
    yield call(WORKLOAD_SNAPSHOT)
    outcome["workloadSnapshotted"] = True
    progress = yield from _passes(context, call, QUIESCE, timing)
    outcome["quiesce"] = progress
    if progress["done"] and not progress["failed"]:
        return {"status": "succeeded"}
    why = f"{progress['failed']} item(s) could not be removed" if progress["done"] else "it did not finish in time"
    return {"status": "failed", "error": {"code": "QuiesceFailed", "reasons": [],
                                         "message": f"the workspace could not be quiesced: {why}; see the status"}}


def restore(context: df.DurableOrchestrationContext, call: Any, timing: MoveTiming, outcome: dict, phase: str):
    """Restore (after the move) or compensate (at the source) until settled; a failure becomes a step error."""
    try:
        outcome[phase] = yield from _passes(context, call, phase, timing)
        if not outcome[phase]["done"]:
            outcome["stepErrors"][phase] = "the workload was not fully re-created before the deadline"
    except Exception as exc:  # after its retries: recorded, the move still ends in a clear state
        outcome["stepErrors"][phase] = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else
                                              type(exc).__name__)[:500]


def _passes(context: df.DurableOrchestrationContext, call: Any, phase: str, timing: MoveTiming):
    deadline = context.current_utc_datetime + timedelta(seconds=timing.operation_deadline_seconds)
    delay = max(timing.min_poll_seconds, min(timing.poll_fallback_seconds, timing.max_poll_seconds))
    round_number = 0
    while True:
        round_number += 1
        progress = yield call(WORKLOAD_STEP, phase=phase, round=round_number)
        now = context.current_utc_datetime
        if progress["done"] or now >= deadline:
            return progress
        yield context.create_timer(min(now + timedelta(seconds=delay), deadline))


# activities ------------------------------------------------------------------------------------------------------
@activity(bp)
def move_workload_snapshot(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.plan import MovePlan
        from shared.moves.workload import passes as work
    return work.snapshot_workload(get_clients(), MovePlan.from_json(payload["plan"]))


@activity(bp)
def move_workload_step(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.plan import MovePlan
        from shared.moves.workload import passes as work
    return work.advance(get_clients(), MovePlan.from_json(payload["plan"]), payload["phase"], int(payload["round"]))
