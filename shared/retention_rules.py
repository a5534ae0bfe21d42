"""The ledger's state machine (DESIGN §5), pure: a row and an event in, the new row (or no change) out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.retention_ledger import LedgerRow, LedgerState
from shared.workspace_events import EventKind, WorkspaceEvent


@dataclass(frozen=True)
class WorkspaceFacts:
    """What the inventory knows of the workspace and the delete event does not carry."""

    cmk_enabled: bool | None = None
    managed_resource_group: str | None = None


def is_stale(row: LedgerRow | None, event: WorkspaceEvent) -> bool:
    """A redelivered event, or one older than the newest applied: it changes nothing."""
    if row is None:
        return False
    if event.event_id == row.last_event_id:
        return True
    return row.last_event_time is not None and event.event_time < row.last_event_time


def effective_state(row: LedgerRow, at: datetime) -> LedgerState:
    """The row's state at a moment: a soft-deleted workspace past PurgeAfter is gone even before the sweep says so."""
    if row.state is LedgerState.SOFT_DELETED and at >= row.purge_after:
        return LedgerState.EXPIRED
    return row.state


def apply_event(
    row: LedgerRow | None, event: WorkspaceEvent, *, retention_days: int, facts: WorkspaceFacts | None = None
) -> LedgerRow | None:
    """The row after `event`, or None when the event changes nothing."""
    if is_stale(row, event):
        return None
    if event.kind is EventKind.WRITE:
        return None if row is None else _write(row, event.event_time, event.event_id)
    return _delete(row, event, retention_days, facts or WorkspaceFacts())


def _write(row: LedgerRow, at: datetime, event_id: str) -> LedgerRow:
    state = effective_state(row, at)
    if state is LedgerState.SOFT_DELETED:
        state = LedgerState.RECOVERED
    # Recovered, Expired, PermanentlyDeleted stay as they are: a write there is the live (or a new) workspace.
    return replace(row, state=state, last_event_time=at, last_event_id=event_id)


def _delete(row: LedgerRow | None, event: WorkspaceEvent, retention_days: int, facts: WorkspaceFacts) -> LedgerRow:
    at = event.event_time
    if row is not None and effective_state(row, at) is LedgerState.SOFT_DELETED:
        if event.force_to_purge:  # the soft-deleted workspace is purged: the name is free now
            return replace(row, state=LedgerState.PERMANENTLY_DELETED, purge_after=at,
                           last_event_time=at, last_event_id=event.event_id)
        return replace(row, last_event_time=at, last_event_id=event.event_id)
    purge = event.force_to_purge
    return LedgerRow(
        subscription_id=event.subscription_id.lower(),
        resource_group=event.resource_group.lower(),
        workspace_name=event.workspace_name.lower(),
        workspace_id=event.workspace_id,
        state=LedgerState.PERMANENTLY_DELETED if purge else LedgerState.SOFT_DELETED,
        deleted_at=at,
        purge_after=at if purge else at + timedelta(days=retention_days),
        retention_days=0 if purge else retention_days,
        deleted_by=event.caller,
        correlation_id=event.correlation_id,
        last_event_time=at,
        last_event_id=event.event_id,
        alerts_sent=(),
        cmk_enabled=facts.cmk_enabled,
        managed_resource_group=facts.managed_resource_group,
        alert_claim=None,
        etag=row.etag if row is not None else None,
    )


def new_episode(old: LedgerRow | None, new: LedgerRow) -> bool:
    """Whether `new` opened a soft-delete episode that `old` did not have (schedule its alerts)."""
    if new.state is not LedgerState.SOFT_DELETED:
        return False
    return old is None or old.state is not LedgerState.SOFT_DELETED or old.deleted_at != new.deleted_at
