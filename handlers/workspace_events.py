"""Event Grid trigger `workspace_events`: Microsoft.Resources events of ML workspaces into the retention ledger."""

import azure.functions as func

from handlers.telemetry import traced
from shared.azure.clients import get_clients
from shared.retention import RetentionEvents
from shared.settings import get_settings

bp = func.Blueprint()


@bp.function_name("workspace_events")
@bp.event_grid_trigger(arg_name="event")
@traced("pubsub")
def workspace_events(event: func.EventGridEvent) -> None:
    # The worker hands over an EventGridEvent or, for a CloudEvents subscription, a CloudEvent: both are accepted.
    RetentionEvents(get_clients(), get_settings()).handle(event)
