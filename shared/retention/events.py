"""Microsoft.Resources system-topic events (Event Grid or CloudEvents schema) normalised into typed workspace events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Mapping

from shared.azure.arm_ids import ArmIdError, ResourceGroupId, ResourceId, parse_scope, parse_workspace_id
from shared.retention.event_fields import (  # noqa: F401  (re-exported: activity.py reads them from here)
    MAX_FIELD_CHARS,
    UPN_CLAIM,
    _as_time,
    _force_to_purge,
    _text,
    caller_of,
    json_object,
)
from shared.untrusted_input import JsonInputError, loads_bounded

DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess"
WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"
WRITE_FAILURE = "Microsoft.Resources.ResourceWriteFailure"  # its data carries no error text (event schema)
WORKSPACE_OPERATIONS = {
    "microsoft.machinelearningservices/workspaces/delete": "delete",
    "microsoft.machinelearningservices/workspaces/write": "write",
}
# A resource group's delete: ARM emits events per management request (docs: event-schema-resource-groups, "resource
# events are created for PUT, PATCH, POST and DELETE operations sent to management.azure.com"), and deleting a group
# is one request; nothing documents an event per resource it held. The app records the group's inventoried workspaces.
GROUP_DELETE = "microsoft.resources/subscriptions/resourcegroups/delete"
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)  # Table Storage DateTime starts at 1601; ARM events are recent
# An event time later than this past the time it was received is not ARM's clock: refused as malformed (docs/retention.md,
# "Events the app refuses"). ARM stamps the event when the operation ends; clocks of Azure hosts are NTP-synchronised
# to well under a second, so 10 minutes leaves room for any skew while a forged far-future delete cannot hold a row.
MAX_FUTURE_SKEW = timedelta(minutes=10)


class EventKind(str, Enum):
    DELETE = "delete"
    WRITE = "write"


class MalformedEvent(ValueError):
    """A workspace event that cannot be applied; logged with its id and dropped."""

    def __init__(self, event_id: str | None, problem: str) -> None:
        super().__init__(f"event {event_id or '<no id>'}: {problem}")
        self.event_id = event_id
        self.problem = problem


@dataclass(frozen=True)
class Envelope:
    """The schema-neutral fields of one delivered event."""

    id: str | None
    type: str | None
    subject: str | None
    time: datetime | None
    data: Any
    source: str | None = None  # Event Grid `topic` / CloudEvents `source`: the topic the event was published to
    bad_time: str | None = None  # the event's time as sent, when it is not an RFC 3339 date-time

    @classmethod
    def from_object(cls, event: Any) -> "Envelope":
        """From the event's JSON text (what the webhook binding hands over), a JSON dict of either schema, or
        azure.functions' EventGridEvent / CloudEvent (duck-typed). Raises MalformedEvent for text that is not a JSON
        object within the nesting bound (shared/untrusted_input.py)."""
        if isinstance(event, (str, bytes, bytearray)):
            try:
                event = loads_bounded(event)
            except JsonInputError as exc:
                raise MalformedEvent(None, f"the delivered event {exc}") from None
            if not isinstance(event, Mapping):
                raise MalformedEvent(None, f"the delivered event is a JSON {type(event).__name__}, not an object")
        if isinstance(event, Mapping):
            return cls.from_dict(event)
        data = event.get_json() if hasattr(event, "get_json") else getattr(event, "data", None)
        if hasattr(event, "event_type"):  # Event Grid schema
            return cls(event.id, event.event_type, event.subject, _as_time(event.event_time), data, event.topic)
        return cls(event.id, getattr(event, "type", None), getattr(event, "subject", None),
                   _as_time(getattr(event, "time", None)), data, getattr(event, "source", None))

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> "Envelope":
        grid = "eventType" in body or "topic" in body
        sent = body.get("eventTime" if grid else "time")
        time = _as_time(sent)
        bad = None if time is not None or sent in (None, "") else str(sent)[:64]
        if grid:
            return cls(_text(body.get("id")), _text(body.get("eventType")), _text(body.get("subject")), time,
                       body.get("data"), _text(body.get("topic")), bad)
        return cls(_text(body.get("id")), _text(body.get("type")), _text(body.get("subject")), time,
                   body.get("data"), _text(body.get("source")), bad)


@dataclass(frozen=True)
class WorkspaceEvent:
    """A successful delete or write of an Azure ML workspace, as the ledger needs it."""

    event_id: str
    kind: EventKind
    workspace: ResourceId
    event_time: datetime
    caller: str | None = None
    correlation_id: str | None = None
    force_to_purge: bool = False
    time_from_event: bool = True
    reason: str | None = None  # why the app applies this delete (e.g. the workspace went with its resource group)
    source: str = "event"  # where the app learned it: event | activityLog

    @property
    def workspace_id(self) -> str:
        return self.workspace.id

    @property
    def subscription_id(self) -> str:
        return self.workspace.subscription_id

    @property
    def resource_group(self) -> str:
        return self.workspace.resource_group

    @property
    def workspace_name(self) -> str:
        return self.workspace.name


@dataclass(frozen=True)
class GroupDeleteEvent:
    """A successful delete of a resource group: its workspaces went with it."""

    event_id: str
    group: ResourceGroupId
    event_time: datetime
    caller: str | None = None
    correlation_id: str | None = None

    def workspace_event(self, workspace: ResourceId) -> WorkspaceEvent:
        """The delete of one of the group's workspaces (its id is stable per event and workspace: redeliveries
        dedupe)."""
        return WorkspaceEvent(f"{self.event_id}|{workspace.name.lower()}", EventKind.DELETE, workspace, self.event_time,
                              self.caller, self.correlation_id,
                              reason=f"deleted with its resource group {self.group.name} (event {self.event_id})")


def normalise(envelope: Envelope, *, received_at: datetime | None = None
              ) -> WorkspaceEvent | GroupDeleteEvent | WriteFailureEvent | None:
    """The workspace (or resource group) event, None if the ledger does not track it, or :class:`MalformedEvent`."""
    data = envelope.data
    if not isinstance(data, Mapping):
        if envelope.type in (DELETE_SUCCESS, WRITE_SUCCESS):
            raise MalformedEvent(envelope.id, "has no data object")
        return None
    operation = str(data.get("operationName") or "").lower()
    kind = WORKSPACE_OPERATIONS.get(operation)
    if operation == GROUP_DELETE:
        kind = "group"
    if kind is None:
        return None
    failed = kind == "write" and (envelope.type == WRITE_FAILURE or (
        envelope.type is None and str(data.get("status") or "").lower() == "failed"))
    if failed:
        return _write_failure(envelope, data, received_at)
    if envelope.type is not None:
        if envelope.type not in (DELETE_SUCCESS, WRITE_SUCCESS):
            return None  # other failures, cancellations, actions
    elif str(data.get("status") or "").lower() != "succeeded":
        return None  # the type was lost in mapping: only a succeeded operation counts
    deleting = kind in ("delete", "group")
    if deleting and envelope.type == WRITE_SUCCESS or kind == "write" and envelope.type == DELETE_SUCCESS:
        raise MalformedEvent(envelope.id, f"event type {envelope.type} does not match operation {operation}")
    checked = _check_envelope(envelope, data, received_at, group=kind == "group")
    if kind == "group":
        return GroupDeleteEvent(str(envelope.id), checked.resource, checked.event_time, checked.caller,
                                checked.correlation)
    request = json_object(data.get("httpRequest")) or {}
    return WorkspaceEvent(
        event_id=str(envelope.id),
        kind=EventKind(kind),
        workspace=checked.resource,
        event_time=checked.event_time,
        caller=checked.caller,
        correlation_id=checked.correlation,
        force_to_purge=kind == "delete" and _force_to_purge(request.get("url")),
        time_from_event=checked.time_from_event,
    )


@dataclass(frozen=True)
class WriteFailureEvent:
    """A create or update of a workspace that failed (ResourceWriteFailure): who tried, when, which operation."""

    event_id: str
    workspace: ResourceId
    event_time: datetime
    caller: str | None = None
    correlation_id: str | None = None


def _write_failure(envelope: Envelope, data: Mapping[str, Any], received_at: datetime | None) -> WriteFailureEvent:
    checked = _check_envelope(envelope, data, received_at)
    return WriteFailureEvent(str(envelope.id), checked.resource, checked.event_time, checked.caller,
                             checked.correlation)


@dataclass(frozen=True)
class _Checked:
    """The envelope fields every workspace (or resource group) event needs, checked."""

    resource: ResourceId | ResourceGroupId  # the workspace, or the resource group of a group delete
    event_time: datetime
    time_from_event: bool
    caller: str | None
    correlation: str | None  # None when absent or empty


def _check_envelope(envelope: Envelope, data: Mapping[str, Any], received_at: datetime | None, *,
                    group: bool = False) -> _Checked:
    """The checks every kind of event passes, in this order: an id, a resourceUri (or subject) that is a workspace
    id (a resource group id when `group`), an RFC 3339 eventTime at most MAX_FUTURE_SKEW after `received_at` (now
    when None) and not before 1970 (the receive time when absent), a string correlationId, and the id, caller and
    correlationId within MAX_FIELD_CHARS. Raises MalformedEvent naming the first problem."""
    if not envelope.id:
        raise MalformedEvent(None, "has no id")
    resource = data.get("resourceUri") or envelope.subject
    try:
        if group:
            found = parse_scope(str(resource or ""))
            if not isinstance(found, ResourceGroupId):
                raise ArmIdError("resourceUri", "is a subscription id", str(resource))
        else:
            found = parse_workspace_id(str(resource or ""))
    except ArmIdError as exc:
        raise MalformedEvent(envelope.id, f"resourceUri is not a {'resource group' if group else 'workspace'}"
                                          f" id: {exc}") from None
    received = received_at or datetime.now(timezone.utc)
    if envelope.bad_time is not None:
        raise MalformedEvent(envelope.id, f"eventTime {envelope.bad_time!r} is not an RFC 3339 date-time")
    event_time = envelope.time or received
    if event_time > received + MAX_FUTURE_SKEW:
        raise MalformedEvent(envelope.id, f"eventTime {event_time.isoformat()} is more than "
                                          f"{int(MAX_FUTURE_SKEW.total_seconds() // 60)} minutes after it was received "
                                          f"({received.isoformat(timespec='seconds')})")
    if event_time < EARLIEST:
        raise MalformedEvent(envelope.id, f"eventTime {event_time.isoformat()} is not a time ARM could have sent")
    correlation = data.get("correlationId")
    if correlation is not None and not isinstance(correlation, str):
        raise MalformedEvent(envelope.id, f"correlationId is a {type(correlation).__name__}, not a string")
    caller = caller_of(data.get("claims"))
    _check_lengths(envelope.id, str(envelope.id), caller, correlation)
    return _Checked(found, event_time, envelope.time is not None, caller, correlation or None)


def _check_lengths(envelope_id: Any, event_id: str, caller: str | None, correlation: str | None) -> None:
    for name, value in (("id", event_id), ("caller", caller), ("correlationId", correlation)):
        if value is not None and len(value) > MAX_FIELD_CHARS:
            raise MalformedEvent(str(envelope_id)[:64], f"{name} is {len(value)} characters long (at most "
                                                        f"{MAX_FIELD_CHARS} are stored)")
