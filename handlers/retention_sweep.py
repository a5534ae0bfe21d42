"""Timer trigger `retention_sweep`: expiring-soon and expired alerts, expiry of ledger rows, the daily digest.

Schedule: the app setting AML_LIFECYCLE_SWEEP_SCHEDULE (NCRONTAB, hourly `0 0 * * * *` by default). Run it on demand
with the host's admin API: `POST /admin/functions/retention_sweep` with body `{}` and the master key.
"""

import logging
from datetime import datetime, timezone

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.telemetry import traced

bp = func.Blueprint()
log = logging.getLogger("aml_lifecycle.sweep")


@bp.function_name("retention_sweep")
@bp.timer_trigger(arg_name="timer", schedule="%AML_LIFECYCLE_SWEEP_SCHEDULE%", use_monitor=True)
@traced("timer")
def retention_sweep(timer: func.TimerRequest) -> None:
    with domain_imports:
        from shared import logs
        from shared.azure.clients import get_clients
        from shared.retention import RetentionSweep
        from shared.settings import get_settings
    if timer.past_due:
        log.info("retention sweep is past due (the app was stopped?): catching up from the watermark",
                 extra=logs.fields(kind="sweep.pastdue"))
    RetentionSweep(get_clients(), get_settings()).run(datetime.now(timezone.utc))
