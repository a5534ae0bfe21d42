"""`POST /api/inventory/backfill`: seed the workspace inventory from the workspaces that exist now."""

from datetime import datetime, timezone

import azure.functions as func

from handlers.http import api, json_body, json_response
from shared.azure.clients import get_clients
from shared.retention import BackfillRequest, run_backfill
from shared.settings import get_settings

bp = func.Blueprint()


@bp.function_name("inventory_backfill")
@bp.route(route="inventory/backfill", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@api
def inventory_backfill(req: func.HttpRequest) -> func.HttpResponse:
    body = json_body(req) if (req.get_body() or b"").strip() else {}
    request = BackfillRequest.from_json(body, get_settings())
    return json_response(run_backfill(get_clients(), request, now=datetime.now(timezone.utc)))
