"""`GET /api/health`: storage, ARM and identity reachability."""

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_response, route_auth_level
from shared import auth

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=route_auth_level())
@api(role=auth.RETENTION_READ)
def health(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.health import check_health
    report = check_health(get_clients())
    return json_response(report, 200 if report["status"] == "healthy" else 503)
