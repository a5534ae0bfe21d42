"""A validation ARM takes longer with: an orchestration polling it on timers (validation_flow.py), its status route."""

from __future__ import annotations

from typing import Any, Generator

import azure.durable_functions as df
import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_response, route_auth_level
from handlers.telemetry import activity
from shared import auth
from shared.errors import ApiError
from shared.moves.orchestrations import VALIDATION_ORCHESTRATOR

bp = df.Blueprint()

ADMIT = "move_validation_admit"
RUNNING = frozenset({"Running", "Pending", "ContinuedAsNew"})


@bp.function_name(VALIDATION_ORCHESTRATOR)
@bp.orchestration_trigger(context_name="context")
def move_validation_orchestrator(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict]:
    """Admit the input, poll ARM on durable timers, then the final report (handlers/validation_flow.py)."""
    with domain_imports:
        from handlers import validation_flow
    return (yield from validation_flow.run(context))


@activity(bp)
def move_validation_admit(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.preflight.validation_admission import admit_validation
        from shared.settings import get_settings
    return admit_validation(get_clients(), get_settings(), str(payload.get("validationId") or ""),
                            payload.get("payload"))


@activity(bp)
def move_validation_poll(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.preflight import validation_async as work
    return work.poll(get_clients(), payload["location"])


@activity(bp)
def move_validation_finish(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.preflight import validation_async as work
    return work.finish(get_clients(), payload["payload"], payload["operation"], str(payload.get("validationId") or ""))


@bp.function_name("move_validation_status")
@bp.route(route="moves/validations/{validationId}", methods=["GET"], auth_level=route_auth_level())
@bp.durable_client_input(client_name="client")
@api(role=auth.MOVES_VALIDATE)
async def move_validation_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """200 with the report once ARM answered; 202 (Location, Retry-After) while it validates; 404 for an unknown id."""
    with domain_imports:
        from shared.moves.preflight.validation_async import is_validation_id
    validation_id = req.route_params.get("validationId") or ""
    status = await client.get_status(validation_id) if is_validation_id(validation_id) else None
    runtime = getattr(getattr(status, "runtime_status", None), "value", None) if status is not None else None
    if runtime is None:
        raise ApiError(404, "ValidationNotFound", f"no validation with id {validation_id!r}", "validationId")
    if runtime in RUNNING:
        body = {"validationId": validation_id, "status": "Running", "statusUrl": req.url}
        return json_response(body, 202, headers={"Location": req.url, "Retry-After": "15"})
    if runtime == "Completed" and isinstance(status.output, dict):
        return json_response({"validationId": validation_id, **status.output})
    raise ApiError(500, "ValidationFailed", f"the validation {validation_id} ended {runtime}; validate again")
