"""A move validation ARM takes longer with: a durable orchestration polling it with timers, and its status route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generator

import azure.durable_functions as df
import azure.functions as func

from handlers.http import api, json_response, route_auth_level
from handlers.telemetry import activity
from shared import auth
from shared.azure.clients import get_clients
from shared.errors import ApiError
from shared.moves.operations import FAILED, OperationStatus, next_poll_delay
from shared.moves.preflight import validation_async as work
from shared.moves.preflight.validation_admission import admit_validation
from shared.settings import get_settings

bp = df.Blueprint()
ADMIT = "move_validation_admit"
RUNNING = frozenset({"Running", "Pending", "ContinuedAsNew"})


@bp.function_name(work.ORCHESTRATOR)
@bp.orchestration_trigger(context_name="context")
def move_validation_orchestrator(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict]:
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


@activity(bp)
def move_validation_admit(payload: dict) -> dict:
    return admit_validation(get_clients(), get_settings(), str(payload.get("validationId") or ""),
                            payload.get("payload"))


@activity(bp)
def move_validation_poll(payload: dict) -> dict:
    return work.poll(get_clients(), payload["location"])


@activity(bp)
def move_validation_finish(payload: dict) -> dict:
    return work.finish(get_clients(), payload["payload"], payload["operation"], str(payload.get("validationId") or ""))


@bp.function_name("move_validation_status")
@bp.route(route="moves/validations/{validationId}", methods=["GET"], auth_level=route_auth_level())
@bp.durable_client_input(client_name="client")
@api(role=auth.MOVES_VALIDATE)
async def move_validation_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """200 with the report once ARM answered; 202 (Location, Retry-After) while it validates; 404 for an unknown id."""
    validation_id = req.route_params.get("validationId") or ""
    status = await client.get_status(validation_id) if work.is_validation_id(validation_id) else None
    runtime = getattr(getattr(status, "runtime_status", None), "value", None) if status is not None else None
    if runtime is None:
        raise ApiError(404, "ValidationNotFound", f"no validation with id {validation_id!r}", "validationId")
    if runtime in RUNNING:
        body = {"validationId": validation_id, "status": "Running", "statusUrl": req.url}
        return json_response(body, 202, headers={"Location": req.url, "Retry-After": "15"})
    if runtime == "Completed" and isinstance(status.output, dict):
        return json_response({"validationId": validation_id, **status.output})
    raise ApiError(500, "ValidationFailed", f"the validation {validation_id} ended {runtime}; validate again")
