"""`GET /api/retention` and `GET /api/retention/{subscriptionId}/{resourceGroup}/{workspaceName}`: the ledger."""

from datetime import datetime, timezone

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_response, route_auth_level
from shared import auth

bp = func.Blueprint()


@bp.function_name("retention_list")
@bp.route(route="retention", methods=["GET"], auth_level=route_auth_level())
@api(role=auth.RETENTION_READ)
def retention_list(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention import ListQuery, RetentionApi
    query = ListQuery.from_params(dict(req.params))
    return json_response(RetentionApi(get_clients()).list(query, now=datetime.now(timezone.utc)))


@bp.function_name("retention_get")
@bp.route(route="retention/{subscriptionId}/{resourceGroup}/{workspaceName}", methods=["GET"],
          auth_level=route_auth_level())
@api(role=auth.RETENTION_READ)
def retention_get(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention import RetentionApi
    route = req.route_params
    body = RetentionApi(get_clients()).get(route.get("subscriptionId", ""), route.get("resourceGroup", ""),
                                           route.get("workspaceName", ""), now=datetime.now(timezone.utc))
    return json_response(body)
