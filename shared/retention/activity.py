"""Workspace deletes read from the Activity Log, as the ledger's events: one per operation, succeeded, with its facts."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Iterable

from shared.azure.arm_ids import ArmIdError, parse_workspace_id
from shared.retention.events import (
    EARLIEST,
    MAX_FUTURE_SKEW,
    EventKind,
    WorkspaceEvent,
    _as_time,
    _force_to_purge,
    caller_of,
)

log = logging.getLogger("aml_lifecycle.activity_log")

DELETE_OPERATION = "microsoft.machinelearningservices/workspaces/delete"
SOURCE = "activityLog"
# Workspaces_Delete (2025-09-01): 204 means "the resource does not exist": nothing was deleted or purged.
NO_CONTENT = {"nocontent", "no content", "no content (http status code: 204)", "204"}


def _value(field: Any) -> str:
    """A LocalizableString's invariant value (or a plain string)."""
    if isinstance(field, dict):
        return str(field.get("value") or "")
    return str(field or "")


def deletes_in(entries: Iterable[dict[str, Any]]) -> list[WorkspaceEvent]:
    """The successful workspace deletes among Activity Log entries, one per operation, oldest first.

    An operation's entries (Started, Accepted, Succeeded/Failed) share its operationId (else its correlationId). Only
    one whose `Succeeded` entry is not a 204 counts. Its time is the Succeeded entry's eventTimestamp; a purge is a
    request URI of the operation carrying `forceToPurge=true`; the caller is `caller`, else the claims.
    """
    operations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if _value(entry.get("operationName")).lower() == DELETE_OPERATION:
            key = str(entry.get("operationId") or entry.get("correlationId") or entry.get("eventDataId") or "")
            operations[key].append(entry)
    found = []
    for key, group in operations.items():
        done = [e for e in group if _value(e.get("status")).lower() == "succeeded"]
        if not key or not done or _value(done[0].get("subStatus")).lower() in NO_CONTENT:
            continue
        event = _event(done[0], group)
        if event is not None:
            found.append(event)
    return sorted(found, key=lambda e: (e.event_time, e.event_id))


def _event(done: dict[str, Any], group: list[dict[str, Any]]) -> WorkspaceEvent | None:
    try:
        workspace = parse_workspace_id(str(done.get("resourceId") or ""))
    except ArmIdError as exc:
        log.warning("activity log entry %s: resourceId is not a workspace id: %s", done.get("eventDataId"), exc)
        return None
    at = _as_time(done.get("eventTimestamp"))
    if at is None or not EARLIEST <= at <= datetime.now(timezone.utc) + MAX_FUTURE_SKEW:
        log.warning("activity log entry %s has no usable eventTimestamp; skipped", done.get("eventDataId"))
        return None
    uris = [((e.get("httpRequest") or {}).get("uri")) for e in group if isinstance(e.get("httpRequest"), dict)]
    caller = str(done.get("caller") or "").strip() or caller_of(done.get("claims"))
    correlation = done.get("correlationId") if isinstance(done.get("correlationId"), str) else None
    return WorkspaceEvent(
        event_id=f"activitylog:{done.get('eventDataId') or done.get('operationId')}"[:512],
        kind=EventKind.DELETE, workspace=workspace, event_time=at, caller=(caller or None) and caller[:512],
        correlation_id=(correlation or None) and correlation[:512],
        force_to_purge=any(_force_to_purge(u) for u in uris), source=SOURCE)
