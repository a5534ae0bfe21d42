"""`POST /api/moves/validate`: can this workspace move to that resource group? One report (docs/api.md), or 202 and a
status URL when ARM takes longer than the bound (async request-reply; the 230 s HTTP limit is never near)."""

import asyncio

import azure.durable_functions as df
import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_body, json_response, route_auth_level
from shared import auth

bp = df.Blueprint()


@bp.function_name("moves_validate")
@bp.route(route="moves/validate", methods=["POST"], auth_level=route_auth_level())
@bp.durable_client_input(client_name="client")
@api(role=auth.MOVES_VALIDATE)
async def moves_validate(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.links import base_of
        from shared.moves.preflight import validation_async
        from shared.moves.preflight.validation import validate_move
        from shared.moves.preflight.validation_admission import record_validation
        from shared.moves.request import check_allowed, parse_move_request
        from shared.settings import get_settings
    request = parse_move_request(json_body(req))
    settings = get_settings()
    check_allowed(request, settings)  # 403 before any ARM call
    report = await asyncio.to_thread(validate_move, get_clients(), settings, request)
    if report.arm_validation.get("status") != "running":
        return json_response(report.to_json())
    validation_id = validation_async.new_validation_id()
    payload = validation_async.orchestration_input(request, report)
    # Recorded first: the orchestration admits only the input recorded for its id (validation_admission.py).
    await asyncio.to_thread(record_validation, get_clients(), validation_id, payload)
    await client.start_new(validation_async.ORCHESTRATOR, validation_id, payload)
    status_url = f"{base_of(req.url)}/api/moves/validations/{validation_id}"
    body = {**report.to_json(), "validationId": validation_id, "statusUrl": status_url}
    body["armValidation"] = {"status": "running", "message": "ARM is still validating; poll statusUrl"}
    return json_response(body, 202, headers={"Location": status_url, "Retry-After": "15"})
