"""`POST /api/moves` (start a durable move, one per workspace), `GET /api/moves` (list) and `GET /api/moves/{moveId}`."""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, caller_of, json_body, json_response, route_auth_level
from shared import auth
from shared.errors import ApiError, describe_azure_error
from shared.moves.orchestrations import ORCHESTRATOR

bp = df.Blueprint()
log = logging.getLogger("aml_lifecycle.moves")


@bp.function_name("moves_start")
@bp.route(route="moves", methods=["POST"], auth_level=route_auth_level())
@bp.durable_client_input(client_name="client")
@api(role=auth.MOVES_EXECUTE)
async def moves_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    with domain_imports:
        from shared import logs
        from shared.azure.clients import get_clients
        from shared.moves.claims import ClaimTaken
        from shared.moves.launch import (
            discard_start,
            is_running,
            mark_not_started,
            parse_start,
            prepare_claimed,
            running_move_id,
        )
        from shared.moves.orphans import release_orphan
        from shared.moves.plan import instance_id_for
        from shared.moves.request import check_allowed
        from shared.settings import get_settings
    request, recreate = parse_start(json_body(req))
    caller = caller_of(req)  # recorded as requestedBy: the signed-in principal, never the body
    settings = get_settings()
    check_allowed(request, settings)
    instance_id = instance_id_for(request.workspace)
    current = await client.get_status(instance_id, show_input=True)
    if is_running(current):
        return _conflict(req, running_move_id(current), request.workspace.id)

    clients = get_clients()
    try:  # the workspace's start claim first: concurrent starts lose here, before any preflight read
        plan = await asyncio.to_thread(prepare_claimed, clients, settings, request, recreate,
                                       requested_by=caller.record())
    except ClaimTaken as taken:
        # The claimant's orchestration may be gone (terminated, lost): its row is ended from what ARM says first.
        if not await asyncio.to_thread(release_orphan, clients, request.workspace.subscription_id, taken.move_id,
                                       current, caller.record()):
            return _conflict(req, taken.move_id, request.workspace.id)
        try:
            plan = await asyncio.to_thread(prepare_claimed, clients, settings, request, recreate,
                                           requested_by=caller.record())
        except ClaimTaken as again:
            return _conflict(req, again.move_id, request.workspace.id)
    try:
        await client.start_new(ORCHESTRATOR, instance_id, plan.to_json())
    except Exception as exc:  # the Durable client raises plain Exceptions carrying the host's answer
        reason = describe_azure_error(exc)
        if "already exists" in reason.lower():  # answered 409: nothing started, so no Failed row either
            await asyncio.to_thread(discard_start, clients, plan)
            return _conflict(req, running_move_id(await client.get_status(instance_id, show_input=True)),
                             request.workspace.id)
        await asyncio.to_thread(mark_not_started, clients, plan, f"the orchestration did not start: {reason}")
        raise ApiError(
            503, "MoveNotStarted", "the move orchestration could not be started; nothing was moved; retry"
        ) from exc
    log.info("move %s of %s to %s started by %s", plan.move_id, request.workspace.id, request.target.id, caller.label(),
             extra=logs.fields(kind="move.started", move_id=plan.move_id, workspace_id=request.workspace.id,
                               target_id=request.target.id))
    status_url = _url(req, plan.move_id)
    # Never the Durable management URLs (create_http_management_payload): they carry the host's system key.
    body = {"moveId": plan.move_id, "statusUrl": status_url, "state": "Validating"}
    return json_response(body, 202, headers={"Location": status_url, "Retry-After": "30"})


@bp.function_name("moves_list")
@bp.route(route="moves", methods=["GET"], auth_level=route_auth_level())
@api(role=(auth.MOVES_EXECUTE, auth.MOVES_VALIDATE))
def moves_list(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure import tables
        from shared.azure.clients import get_clients
        from shared.moves.listing import MoveListQuery, list_moves
    query = MoveListQuery.from_params(dict(req.params))
    client = tables.table(get_clients().tables(), tables.MOVES)
    return json_response(list_moves(client, query, base_url(req)))


@bp.function_name("move_status")
@bp.route(route="moves/{moveId}", methods=["GET"], auth_level=route_auth_level())
@api(role=(auth.MOVES_EXECUTE, auth.MOVES_VALIDATE))
def move_status(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.plan import is_move_id
        from shared.moves.report import status_view
        from shared.moves.store import MovesStore
    move_id = req.route_params.get("moveId") or ""
    record = MovesStore.of(get_clients()).get(move_id) if is_move_id(move_id) else None
    if record is None:
        raise ApiError(404, "MoveNotFound", f"no move with id {move_id!r}", "moveId")
    return json_response(status_view(record, base_url(req)))


def _conflict(req: func.HttpRequest, move_id: str | None, workspace_id: str) -> func.HttpResponse:
    error = ApiError(
        409,
        "MoveAlreadyRunning",
        f"a move of {workspace_id} is already running"
        + (f" ({move_id})" if move_id else "")
        + "; wait for it to finish",
        "workspaceId",
    )
    body = {**error.body(), "moveId": move_id, "statusUrl": _url(req, move_id) if move_id else None}
    return json_response(body, 409)


def base_url(req: func.HttpRequest) -> str:
    with domain_imports:
        from shared.moves.links import base_of
    return base_of(req.url)


def _url(req: func.HttpRequest, move_id: str) -> str:
    return f"{base_url(req)}/api/moves/{move_id}"
