"""Microsoft.Resources system-topic events (Event Grid or CloudEvents schema) normalised into typed workspace events."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Mapping

from shared.azure.arm_ids import ArmIdError, ResourceGroupId, ResourceId, parse_scope, parse_workspace_id

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
UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
# Longest value we store from an event field. Table Storage caps a string property at 64 KiB (32 K UTF-16 chars) and
# the row's History keeps up to 40 events' caller and correlation id: longer is not an ARM value, it is malformed.
MAX_FIELD_CHARS = 512
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)  # Table Storage DateTime starts at 1601; ARM events are recent
LATEST_AHEAD = timedelta(days=366)  # beyond this past the receive time, an event time is not a clock skew
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


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
    source: str | None = None

    @classmethod
    def from_object(cls, event: Any) -> "Envelope":
        """From azure.functions' EventGridEvent or CloudEvent (duck-typed), or a raw JSON dict of either schema."""
        if isinstance(event, Mapping):
            return cls.from_dict(event)
        data = event.get_json() if hasattr(event, "get_json") else getattr(event, "data", None)
        if hasattr(event, "event_type"):  # Event Grid schema
            return cls(event.id, event.event_type, event.subject, _as_time(event.event_time), data, event.topic)
        return cls(event.id, getattr(event, "type", None), getattr(event, "subject", None),
                   _as_time(getattr(event, "time", None)), data, getattr(event, "source", None))

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> "Envelope":
        if "eventType" in body or "topic" in body:
            return cls(body.get("id"), body.get("eventType"), body.get("subject"), _as_time(body.get("eventTime")),
                       body.get("data"), body.get("topic"))
        return cls(body.get("id"), body.get("type"), body.get("subject"), _as_time(body.get("time")),
                   body.get("data"), body.get("source"))


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
    if not envelope.id:
        raise MalformedEvent(None, "has no id")
    resource = data.get("resourceUri") or envelope.subject
    try:
        if kind == "group":
            workspace = parse_scope(str(resource or ""))
            if not isinstance(workspace, ResourceGroupId):
                raise ArmIdError("resourceUri", "is a subscription id", str(resource))
        else:
            workspace = parse_workspace_id(str(resource or ""))
    except ArmIdError as exc:
        raise MalformedEvent(envelope.id, f"resourceUri is not a {'resource group' if kind == 'group' else 'workspace'}"
                                          f" id: {exc}") from None
    received = received_at or datetime.now(timezone.utc)
    time_from_event = envelope.time is not None
    event_time = envelope.time or received
    if not EARLIEST <= event_time <= received + LATEST_AHEAD:
        raise MalformedEvent(envelope.id, f"eventTime {event_time.isoformat()} is not a time ARM could have sent")
    correlation = data.get("correlationId")
    if correlation is not None and not isinstance(correlation, str):
        raise MalformedEvent(envelope.id, f"correlationId is a {type(correlation).__name__}, not a string")
    request = json_object(data.get("httpRequest")) or {}
    if kind == "group":
        group = GroupDeleteEvent(str(envelope.id), workspace, event_time, caller_of(data.get("claims")),
                                 correlation or None)
        _check_lengths(envelope.id, group.event_id, group.caller, correlation)
        return group
    result = WorkspaceEvent(
        event_id=str(envelope.id),
        kind=EventKind(kind),
        workspace=workspace,
        event_time=event_time,
        caller=caller_of(data.get("claims")),
        correlation_id=correlation or None,
        force_to_purge=kind == "delete" and _force_to_purge(request.get("url")),
        time_from_event=time_from_event,
    )
    _check_lengths(envelope.id, result.event_id, result.caller, correlation)
    return result


@dataclass(frozen=True)
class WriteFailureEvent:
    """A create or update of a workspace that failed (ResourceWriteFailure): who tried, when, which operation."""

    event_id: str
    workspace: ResourceId
    event_time: datetime
    caller: str | None = None
    correlation_id: str | None = None


def _write_failure(envelope: Envelope, data: Mapping[str, Any], received_at: datetime | None) -> WriteFailureEvent:
    if not envelope.id:
        raise MalformedEvent(None, "has no id")
    try:
        workspace = parse_workspace_id(str(data.get("resourceUri") or envelope.subject or ""))
    except ArmIdError as exc:
        raise MalformedEvent(envelope.id, f"resourceUri is not a workspace id: {exc}") from None
    correlation = data.get("correlationId")
    if correlation is not None and not isinstance(correlation, str):
        raise MalformedEvent(envelope.id, f"correlationId is a {type(correlation).__name__}, not a string")
    received = received_at or datetime.now(timezone.utc)
    at = envelope.time or received
    if not EARLIEST <= at <= received + LATEST_AHEAD:
        raise MalformedEvent(envelope.id, f"eventTime {at.isoformat()} is not a time ARM could have sent")
    event = WriteFailureEvent(str(envelope.id), workspace, at, caller_of(data.get("claims")), correlation or None)
    _check_lengths(envelope.id, event.event_id, event.caller, correlation)
    return event


def _check_lengths(envelope_id: Any, event_id: str, caller: str | None, correlation: str | None) -> None:
    for name, value in (("id", event_id), ("caller", caller), ("correlationId", correlation)):
        if value is not None and len(value) > MAX_FIELD_CHARS:
            raise MalformedEvent(str(envelope_id)[:64], f"{name} is {len(value)} characters long (at most "
                                                        f"{MAX_FIELD_CHARS} are stored)")


def json_object(value: Any) -> Mapping[str, Any] | None:
    """`data.claims` / `httpRequest` / `authorization` as a mapping: an object, or a JSON string of one.

    Event Grid's schema has them as objects; relays and older SDK models re-publish them as JSON strings.
    """
    if isinstance(value, Mapping):
        return value
    if isinstance(value, (str, bytes)):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def caller_of(claims: Any) -> str | None:
    """Who made the request: the upn claim, then `name`, then `appid` (a service principal); claims as a mapping or
    a JSON string of one."""
    claims = json_object(claims)
    if claims is None:
        return None
    for name in (UPN_CLAIM, "name", "appid"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _force_to_purge(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    return any(k.lower() == "forcetopurge" and v.strip().lower() in ("true", "1") for k, v in query)


def _as_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a datetime or an ISO 8601 string (up to 7 fractional digits, as ARM sends)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    match = _TIME.match(str(value).strip())
    if not match:
        return None
    base, fraction, zone = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    parsed = datetime.fromisoformat(f"{base}.{micro}{'+00:00' if zone in (None, 'Z') else zone}")
    return parsed.astimezone(timezone.utc)
