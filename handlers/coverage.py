"""`GET /api/coverage`: which watched subscriptions have the event subscription to workspace_events, which not."""

from datetime import datetime, timezone

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_response, route_auth_level
from shared import auth

bp = func.Blueprint()


@bp.function_name("coverage")
@bp.route(route="coverage", methods=["GET"], auth_level=route_auth_level())
@api(role=auth.RETENTION_READ)
def coverage(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention.coverage import coverage_report
        from shared.settings import get_settings
    return json_response(coverage_report(get_clients(), get_settings(), now=datetime.now(timezone.utc)))
