"""Event Grid trigger `alert_notifier`: each alert on the alerts topic posted to a person's Teams or Slack webhook.

The deployment subscribes it to the alerts topic when a webhook URL is given (infra/app/notifications.bicep). A post
that fails after its bounded retries fails the invocation, so Event Grid redelivers and finally dead-letters the
alert (docs/alerts.md).
"""

import logging

import azure.functions as func

from handlers.cold_start import domain_imports
from handlers.telemetry import traced

bp = func.Blueprint()
log = logging.getLogger("aml_lifecycle.notify")


@bp.function_name("alert_notifier")
@bp.event_grid_trigger(arg_name="event")
@traced("pubsub")
def alert_notifier(event: func.EventGridEvent) -> None:
    with domain_imports:
        from shared.notify import NotifyError, NotifySettings, deliver
    # A CloudEvents subscription hands over func.CloudEvent (.type), an Event Grid schema one func.EventGridEvent.
    event_type = str(getattr(event, "type", None) or getattr(event, "event_type", ""))
    data = event.get_json() if hasattr(event, "get_json") else getattr(event, "data", {})
    try:
        deliver(NotifySettings.from_env(), event_type, str(event.subject or ""), data or {}, str(event.id))
    except NotifyError as exc:
        log.warning("alert %s (%s) not delivered: %s; Event Grid will redeliver it", event.id, event_type, exc)
        raise
