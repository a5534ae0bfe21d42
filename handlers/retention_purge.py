"""`POST /api/retention/{subscriptionId}/{resourceGroup}/{workspaceName}/purge`: permanently delete a soft-deleted
workspace where AML_LIFECYCLE_PURGE_SCOPES allows it (body `{"confirm": "<name>", "reason": "..."}`)."""

from datetime import datetime, timezone

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, caller_of, json_body, json_response, route_auth_level
from shared import auth

bp = func.Blueprint()


@bp.function_name("retention_purge")
@bp.route(route="retention/{subscriptionId}/{resourceGroup}/{workspaceName}/purge", methods=["POST"],
          auth_level=route_auth_level())
@api(role=auth.RETENTION_PURGE)
def retention_purge(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention.api import check_route
        from shared.retention.purge import RetentionPurge, parse_purge
        from shared.settings import get_settings
    route = req.route_params
    sub, group, name = route.get("subscriptionId", ""), route.get("resourceGroup", ""), route.get("workspaceName", "")
    check_route(sub, group, name)
    request = parse_purge(json_body(req), name, caller_of(req).record())  # the signed-in caller, never the body
    status, body = RetentionPurge(get_clients(), get_settings()).purge(sub, group, name, request,
                                                                       now=datetime.now(timezone.utc))
    return json_response(body, status)
