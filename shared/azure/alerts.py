"""Alerts: CloudEvents 1.0 published to the alerts Event Grid topic (docs/alerts.md)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from shared import logs
from shared.errors import describe_azure_error

SOURCE = "/aml-lifecycle"

WORKSPACE_SOFT_DELETED = "AmlLifecycle.Workspace.SoftDeleted"
RETENTION_EXPIRING_SOON = "AmlLifecycle.Retention.ExpiringSoon"
RETENTION_EXPIRED = "AmlLifecycle.Retention.Expired"
RETENTION_DIGEST = "AmlLifecycle.Retention.Digest"
WORKSPACE_NAME_BLOCKED = "AmlLifecycle.Workspace.NameBlocked"
MOVE_SUCCEEDED = "AmlLifecycle.Move.Succeeded"
MOVE_FAILED = "AmlLifecycle.Move.Failed"
MOVE_NEEDS_ATTENTION = "AmlLifecycle.Move.NeedsAttention"

log = logging.getLogger("aml_lifecycle.alerts")
# The per-send transport options also reach azure-eventgrid's model serializer, which warns about each one.
logging.getLogger("azure.eventgrid._legacy._generated._serialization").setLevel(logging.ERROR)


class AlertPublishError(RuntimeError):
    """The alerts topic refused or did not answer; the alert was not delivered (the message holds no secret)."""

    def __init__(self, event_type: str, subject: str, reason: str) -> None:
        super().__init__(f"publishing {event_type} for {subject} failed: {reason}")
        self.event_type = event_type
        self.subject = subject
        self.reason = reason


def alert_id(*parts: str) -> str:
    """A stable event id for one alert (e.g. workspace, episode, threshold) so consumers can drop duplicates."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "aml-lifecycle:" + "|".join(p.lower() for p in parts)))


def publish_alert(
    clients: Any,
    event_type: str,
    subject: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    time: datetime | None = None,
) -> str:
    """Send one CloudEvent (source `/aml-lifecycle`) and return its id; raises :class:`AlertPublishError`.

    `clients` is a :class:`shared.azure.clients.AzureClients`. With no topic endpoint configured the alert is
    only logged (and counts as sent).
    """
    from azure.core.messaging import CloudEvent

    event_id = event_id or str(uuid.uuid4())
    event = CloudEvent(
        source=SOURCE,
        type=event_type,
        subject=subject,
        data=data,
        id=event_id,
        time=time or datetime.now(timezone.utc),
        datacontenttype="application/json",
    )
    publisher = clients.alerts_publisher()
    if publisher is None:
        log.info("alert (no topic configured, logged only): %s %s %s",
                 event_type, subject, json.dumps(data, default=str),
                 extra=_fields("alert.logged", event_type, subject, event_id, data))
        return event_id
    try:
        publisher.send([event], **clients.alerts_send_options())
    except Exception as exc:  # azure-core errors, network errors: all mean "not delivered"
        reason = describe_azure_error(exc)
        log.warning("alert %s for %s not published: %s", event_type, subject, reason,
                    extra=_fields("alert.failed", event_type, subject, event_id, data))
        raise AlertPublishError(event_type, subject, reason) from exc
    log.info("alert published: %s %s id=%s", event_type, subject, event_id,
             extra=_fields("alert.published", event_type, subject, event_id, data))
    return event_id


def _fields(kind: str, event_type: str, subject: str, event_id: str, data: dict[str, Any]) -> dict[str, str]:
    workspace = subject if subject.lower().startswith("/subscriptions/") else None
    return logs.fields(kind=kind, alert_type=event_type, alert_id=event_id, workspace_id=workspace,
                       move_id=data.get("moveId"), state=data.get("state"))
