"""Event Grid trigger `workspace_events`: Microsoft.Resources events of ML workspaces into the retention ledger."""

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.telemetry import traced

bp = func.Blueprint()


@bp.function_name("workspace_events")
@bp.event_grid_trigger(arg_name="event", data_type=func.DataType.STRING)
@traced("pubsub")
def workspace_events(event: str) -> None:
    # Bound as `str`, the Python worker hands over the event's JSON text through its generic binding
    # (azure-functions-python-worker functions.py: a `str`/`bytes` parameter without implicit output binds as
    # "generic", whose decode returns the datum's text) instead of azure-functions' EventGridEventInConverter, which
    # raises before any app code on an `eventTime` it cannot parse, `+01:00` offsets included (azure/functions/meta.py
    # `_parse_datetime`: only `Z`/`±00:00` or naive formats). The app parses the text itself, with a nesting bound:
    # a malformed event is acknowledged and logged, never a failed invocation (Event Grid would retry it for 24 h).
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.retention import RetentionEvents
        from shared.settings import get_settings
    RetentionEvents(get_clients(), get_settings()).handle(event)
