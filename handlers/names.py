"""`GET /api/names/{subscriptionId}/{resourceGroup}/{workspaceName}`: is this workspace name free, and if not, why."""

from datetime import datetime, timezone

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_response, route_auth_level
from shared import auth

bp = func.Blueprint()


@bp.function_name("name_check")
@bp.route(route="names/{subscriptionId}/{resourceGroup}/{workspaceName}", methods=["GET"],
          auth_level=route_auth_level())
@api(role=auth.RETENTION_READ)
def name_check(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention.names import NameCheck
        from shared.settings import get_settings
    route = req.route_params
    body = NameCheck(get_clients(), get_settings()).check(
        route.get("subscriptionId", ""), route.get("resourceGroup", ""), route.get("workspaceName", ""),
        now=datetime.now(timezone.utc))
    return json_response(body)
