"""`POST /api/moves/{moveId}/cancel`: stop a move through the Durable client, audited on the move's row."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import azure.durable_functions as df
import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, caller_of, json_body, json_response, route_auth_level
from shared import auth
from shared.errors import ApiError, describe_azure_error

if TYPE_CHECKING:
    from shared.moves.store import MoveRecord

bp = df.Blueprint()
log = logging.getLogger("aml_lifecycle.moves")


@bp.function_name("move_cancel")
@bp.route(route="moves/{moveId}/cancel", methods=["POST"], auth_level=route_auth_level())
@bp.durable_client_input(client_name="client")
@api(role=auth.MOVES_EXECUTE)
async def move_cancel(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.cancel import check_cancellable, mark_cancelled, parse_cancel
        from shared.moves.finished import announce
        from shared.moves.launch import is_running, running_move_id
        from shared.moves.links import base_of
        from shared.moves.orphans import converge, orchestration_gone
        from shared.moves.plan import is_move_id
        from shared.moves.report import status_view
        from shared.moves.store import MovesStore
    move_id = req.route_params.get("moveId") or ""
    request = parse_cancel(json_body(req))
    caller = caller_of(req)  # canceledBy: the signed-in principal; the body's requestedBy is kept as a note
    store = MovesStore.of(get_clients())
    record = await asyncio.to_thread(store.get, move_id) if is_move_id(move_id) else None
    if record is None:
        raise ApiError(404, "MoveNotFound", f"no move with id {move_id!r}", "moveId")

    current = await client.get_status(record.instance_id, show_input=True)
    if orchestration_gone(record, current):  # terminated / failed / lost: end the row from what ARM says
        record = await asyncio.to_thread(converge, get_clients(), record, by=caller.record(),
                                         reason=request.reason, cancel=True, note=request.requested_by)
        log.info("move %s (orchestration gone) cleared by %s", move_id, caller.label())
        return json_response(status_view(record, base_of(req.url)))

    def change(row: MoveRecord) -> None:
        check_cancellable(row)  # under the row's ETag: a move that starts meanwhile is not cancelled (409)
        mark_cancelled(row, request, canceled_by=caller.record())

    record = await asyncio.to_thread(store.update, record.partition, move_id, change)
    # The row says cancelled first, so an activity still in flight writes nothing more to ARM; then the instance
    # stops, if it is still running this move (the instance id is per workspace and may run a later move).
    try:
        current = await client.get_status(record.instance_id, show_input=True)
        if is_running(current) and running_move_id(current) == move_id:
            await client.terminate(record.instance_id, f"cancelled: {request.reason}"[:300])
    except Exception as exc:  # the Durable client raises plain Exceptions carrying the host's answer
        log.warning("move %s: terminate failed (%s); its activities see the cancel on the row", move_id,
                    describe_azure_error(exc))
    log.info("move %s cancelled by %s", move_id, caller.label())
    # The orchestration's own report will not run now: the alert and the move.finished line go out from here.
    record = await asyncio.to_thread(announce, get_clients(), record)
    return json_response(status_view(record, base_of(req.url)))
