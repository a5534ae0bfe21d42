"""`POST /api/inventory/backfill` and the daily timer `inventory_backfill_daily`: seed the workspace inventory.

The timer's schedule is the app setting AML_LIFECYCLE_BACKFILL_SCHEDULE (NCRONTAB, daily `0 30 3 * * *` by default).
With AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS `*` or a management group id, each run lists the subscriptions again, so a
subscription created since the last run is covered by the next one (docs/subscriptions.md).
"""

import logging
from datetime import datetime, timezone

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.http import api, json_body, json_response, route_auth_level
from handlers.telemetry import traced
from shared import auth
from shared.errors import ApiError

bp = func.Blueprint()
log = logging.getLogger("aml_lifecycle.inventory")


@bp.function_name("inventory_backfill")
@bp.route(route="inventory/backfill", methods=["POST"], auth_level=route_auth_level())
@api(role=auth.INVENTORY_BACKFILL)
def inventory_backfill(req: func.HttpRequest) -> func.HttpResponse:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention import BackfillRequest, run_backfill
        from shared.settings import get_settings
    body = json_body(req) if (req.get_body() or b"").strip() else {}
    request = BackfillRequest.from_json(body, get_settings())
    return json_response(run_backfill(get_clients(), request, now=datetime.now(timezone.utc)))


@bp.function_name("inventory_backfill_daily")
@bp.timer_trigger(arg_name="timer", schedule="%AML_LIFECYCLE_BACKFILL_SCHEDULE%", use_monitor=True)
@traced("timer")
def inventory_backfill_daily(timer: func.TimerRequest) -> None:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention import BackfillRequest, run_backfill
        from shared.settings import get_settings
    try:
        request = BackfillRequest.from_json({}, get_settings())
    except ApiError as exc:  # no watched subscription configured: nothing to do, and say so once a day
        log.warning("scheduled backfill skipped: %s", exc.message)
        return
    result = run_backfill(get_clients(), request, now=datetime.now(timezone.utc))
    log.info("scheduled backfill: %d subscriptions, %d workspaces recorded, %d subscriptions failed, %d deletes "
             "learned from the Activity Log (%d reads incomplete)%s",
             len(result["subscriptions"]), result["recorded"], result["failedSubscriptions"],
             result["deletesLearned"], result["activityLogIncomplete"],
             f" (discovery failed: {result['discovery']['error']})" if "error" in result.get("discovery", {}) else "")
