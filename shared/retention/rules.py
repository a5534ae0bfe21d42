"""The ledger's state machine (docs/retention.md), pure: a row and an event in, the new row (or no change) out.

Events are kept for a while (`REORDER_WINDOW`) and folded in event-time order, so any delivery order of the
same events ends in the row one in-order delivery gives. Older than the window means stale: ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable

from shared.retention.events import EventKind, WorkspaceEvent
from shared.retention.history import HistoryEntry
from shared.retention.ledger import LedgerRow, LedgerState

DELETED_TOKEN = "deleted"  # same token as schedule.DELETED (kept here: rules import nothing of the schedule)
CLOSED_ON_ARRIVAL = "the retention window had already closed when the delete event arrived"
REORDER_WINDOW = timedelta(hours=48)  # Event Grid retries a delivery for up to 24 hours
MAX_HISTORY = 40


@dataclass(frozen=True)
class WorkspaceFacts:
    """What the inventory knows of the workspace and the delete event does not carry."""

    cmk_enabled: bool | None = None
    managed_resource_group: str | None = None
    retention_days: int | None = None  # the workspace's own soft-delete retention, if it has one
    not_soft_deleted: str | None = None  # why a delete of this workspace is permanent (the docs' exceptions)
    kind: str | None = None  # ARM `kind` (shared/azure/workspace_kind.py)
    hub_resource_id: str | None = None  # a project's hub


def entry_of(event: WorkspaceEvent, retention_days: int, reason: str | None = None) -> HistoryEntry:
    """The history entry of an event; `reason` says why a delete is permanent (a workspace the docs exclude)."""
    if event.kind is EventKind.WRITE:
        return HistoryEntry(event.event_id, "write", event.event_time)
    return HistoryEntry(event.event_id, "delete", event.event_time, event.force_to_purge or bool(reason), event.caller,
                        event.correlation_id, event.workspace_id, retention_days, reason or event.reason,
                        event.source)


def same_operation(row: LedgerRow | None, entry: HistoryEntry) -> bool:
    """Whether the row already holds this delete under another id: an Event Grid event and the Activity Log entry of
    one operation share its correlation id (both carry ARM's correlationId), so they are one deletion, never two."""
    if row is None or entry.kind != "delete" or not entry.correlation_id:
        return False
    known = {(h.correlation_id, h.source) for h in row.history if h.kind == "delete"}
    for held in (row, row.base):
        if held is not None:
            known.add((held.correlation_id, held.source))
    # Within one source the id decides (a redelivery); across sources the operation's correlation id does.
    return any(corr == entry.correlation_id and source != entry.source for corr, source in known)


def write_entry(event_id: str, at: datetime) -> HistoryEntry:
    return HistoryEntry(event_id, "write", at)


def effective_state(row: LedgerRow, at: datetime) -> LedgerState:
    """The row's state at a moment: a soft-deleted workspace past PurgeAfter is gone even before the sweep says so."""
    if row.state is LedgerState.SOFT_DELETED and at >= row.purge_after:
        return LedgerState.EXPIRED
    return row.state


def apply_event(
    row: LedgerRow | None,
    event: WorkspaceEvent | None,
    *,
    retention_days: int,
    facts: WorkspaceFacts | None = None,
    writes: Iterable[HistoryEntry] = (),
    now: datetime | None = None,
) -> LedgerRow | None:
    """The row after `event` (and any `writes` the inventory saw), or None when nothing changes.

    With `now`, a soft-delete whose retention window had closed by then is recorded `Expired` (closed on arrival).
    """
    reason = facts.not_soft_deleted if facts else None
    incoming = ([entry_of(event, retention_days, reason)] if event is not None else []) + list(writes)
    history = list(row.history) if row else []
    seen = {h.event_id for h in history} | ({row.last_event_id} if row and row.last_event_id else set())
    cutoff = row.base_until if row else None
    added: dict[str, HistoryEntry] = {}
    for entry in incoming:
        if entry.event_id not in seen and (cutoff is None or entry.time > cutoff) and not same_operation(row, entry):
            added.setdefault(entry.event_id, entry)
    if not added:
        return None
    merged = sorted([*history, *added.values()], key=lambda h: (h.time, h.event_id))
    base = row.base if row else None
    base_until = cutoff
    # Slide the window: events well before the newest are folded into the base for good.
    newest = merged[-1].time
    while merged and (merged[0].time < newest - REORDER_WINDOW or len(merged) > MAX_HISTORY):
        first = merged.pop(0)
        base, base_until = step(base, first, facts), first.time
    rebuilt = base
    for entry in merged:
        rebuilt = step(rebuilt, entry, facts)
    if rebuilt is None:
        return None  # only writes of a workspace never deleted: not a ledger row
    if now is not None and rebuilt.state is LedgerState.SOFT_DELETED and now >= rebuilt.purge_after:
        rebuilt = replace(rebuilt, state=LedgerState.EXPIRED, reason=CLOSED_ON_ARRIVAL)
    rebuilt = _carry_over(row, rebuilt)
    rebuilt = replace(rebuilt, history=tuple(merged), base=_strip(base), base_until=base_until)
    return None if rebuilt == row else rebuilt


def seen(row: LedgerRow | None, event_id: str, event_time: datetime) -> bool:
    """Whether the row already holds this event (a redelivery) or it is older than the reorder window (stale)."""
    if row is None:
        return False
    if row.last_event_id == event_id or any(h.event_id == event_id for h in row.history):
        return True
    return row.base_until is not None and event_time <= row.base_until


def openings(row: LedgerRow) -> list[tuple[LedgerRow, datetime | None]]:
    """The row as each deletion period opened within the reorder window, with when that period ended (None: open).

    A period runs from the delete that opened it while the workspace stays soft-deleted with that DeletedAt.
    """
    found: list[tuple[LedgerRow, datetime | None]] = []
    current = row.base
    for entry in row.history:
        after = step(current, entry, None)
        if found and found[-1][1] is None and (after is None or after.deleted_at != found[-1][0].deleted_at
                                                 or after.state is not LedgerState.SOFT_DELETED):
            found[-1] = (found[-1][0], entry.time)
        if after is not None and (current is None or after.deleted_at != current.deleted_at):
            found.append((after, None if after.state is LedgerState.SOFT_DELETED else after.deleted_at))
        current = after
    return found


def covered(deleted_at: datetime, ended: datetime | None, noticed: Iterable[str]) -> bool:
    """Whether a SoftDeleted alert went out for a delete inside the period [deleted_at, ended): one per period,
    whatever order its events came in (a delete delivered before an earlier one of the same period was alerted)."""
    for key in noticed:
        at = datetime.fromisoformat(key)
        if deleted_at <= at and (ended is None or at < ended):
            return True
    return False


def owed_notices(row: LedgerRow, now: datetime) -> list[LedgerRow]:
    """Soft-delete alerts one in-order delivery would have sent and this row has not recorded, oldest first.

    One per deletion period opened by a (non-purge) delete whose window is still open at `now`, whatever its state
    since (in-order delivery sends it on arrival, before any later recovery or purge is known), unless an alert
    already went out for a delete inside that period.
    """
    owed, done = [], set(row.noticed)
    if DELETED_TOKEN in row.alerts_sent:  # sent by the sweep's retry: recorded on the episode only
        done.add(notice_key(row))
    for opened, ended in openings(row):
        if opened.state is LedgerState.SOFT_DELETED and now < opened.purge_after \
                and not covered(opened.deleted_at, ended, done):
            owed.append(replace(opened, cmk_enabled=row.cmk_enabled, managed_resource_group=row.managed_resource_group,
                                reason=None))
    return owed


def notice_key(row: LedgerRow) -> str:
    """Identifies an episode's soft-delete alert: its DeletedAt (the alert id is derived from it too)."""
    return row.deleted_at.isoformat()


def with_notices(row: LedgerRow, sent: Iterable[LedgerRow]) -> LedgerRow:
    """The row recording the soft-delete alerts `sent` (and `deleted` on the current episode if it is one)."""
    keys = [notice_key(r) for r in sent]
    noticed = tuple(dict.fromkeys([*row.noticed, *keys]))[-MAX_HISTORY:]
    updated = replace(row, noticed=noticed)
    if _current_covered(updated) and row.state is not LedgerState.PERMANENTLY_DELETED:
        updated = updated.with_alert(DELETED_TOKEN)
    return updated


def _current_covered(row: LedgerRow) -> bool:
    """Whether the row's current deletion period had its SoftDeleted alert (any delete inside it alerted)."""
    if notice_key(row) in row.noticed:
        return True
    return row.state is LedgerState.SOFT_DELETED and covered(row.deleted_at, None, row.noticed)


def step(row: LedgerRow | None, entry: HistoryEntry, facts: WorkspaceFacts | None) -> LedgerRow | None:
    """One event applied in order."""
    if entry.kind == "write":
        return None if row is None else _write(row, entry)
    return _delete(row, entry, facts or WorkspaceFacts())


def _write(row: LedgerRow, entry: HistoryEntry) -> LedgerRow:
    state = effective_state(row, entry.time)
    if state is LedgerState.SOFT_DELETED:
        state = LedgerState.RECOVERED
    # Recovered, Expired, PermanentlyDeleted stay as they are: a write there is the live (or a new) workspace.
    return replace(row, state=state, last_event_time=entry.time, last_event_id=entry.event_id)


def _delete(row: LedgerRow | None, entry: HistoryEntry, facts: WorkspaceFacts) -> LedgerRow:
    at = entry.time
    if row is not None and effective_state(row, at) is LedgerState.SOFT_DELETED:
        if entry.purge:  # the soft-deleted workspace is purged: the name is free now
            return replace(row, state=LedgerState.PERMANENTLY_DELETED, purge_after=at, last_event_time=at,
                           last_event_id=entry.event_id, source=entry.source)
        return replace(row, last_event_time=at, last_event_id=entry.event_id)
    from shared.azure.arm_ids import parse_workspace_id

    workspace = parse_workspace_id(entry.workspace_id or "")
    days = entry.retention_days or 0
    return LedgerRow(
        subscription_id=workspace.subscription_id.lower(),
        resource_group=workspace.resource_group.lower(),
        workspace_name=workspace.name.lower(),
        workspace_id=workspace.id if entry.workspace_id is None else entry.workspace_id,
        state=LedgerState.PERMANENTLY_DELETED if entry.purge else LedgerState.SOFT_DELETED,
        deleted_at=at,
        purge_after=at if entry.purge else at + timedelta(days=days),
        retention_days=0 if entry.purge else days,
        deleted_by=entry.caller,
        correlation_id=entry.correlation_id,
        last_event_time=at,
        last_event_id=entry.event_id,
        cmk_enabled=facts.cmk_enabled,
        managed_resource_group=facts.managed_resource_group,
        reason=entry.reason,
        kind=facts.kind,
        hub_resource_id=facts.hub_resource_id,
        source=entry.source,
    )


def _carry_over(old: LedgerRow | None, new: LedgerRow) -> LedgerRow:
    """Keep what the sweep and the alerts recorded on the same episode (same DeletedAt)."""
    if old is None:
        return new
    if old.deleted_at != new.deleted_at:
        fresh = replace(new, noticed=old.noticed, etag=old.etag)
        return with_notices(fresh, ()) if _current_covered(fresh) else fresh
    state = new.state
    if old.state is LedgerState.EXPIRED and new.state is LedgerState.SOFT_DELETED:
        state = LedgerState.EXPIRED  # the sweep closed it
    if (old.reconciled_at is not None and old.reason and old.state is not LedgerState.SOFT_DELETED
            and state in (LedgerState.SOFT_DELETED, LedgerState.RECOVERED)):
        state = old.state  # the sweep settled it from what ARM said (reconcile.py): events of the episode keep it
    new = replace(new, reconciled_at=old.reconciled_at, arm_said=old.arm_said, internal_id=old.internal_id,
                  reason=old.reason if state is old.state and old.reason else new.reason, purge=old.purge,
                  blocked_ops=old.blocked_ops, source=old.source if state is old.state and old.source == "reconcile"
                  else new.source)
    return replace(new, state=state, alerts_sent=old.alerts_sent, alert_claim=old.alert_claim, noticed=old.noticed,
                   cmk_enabled=old.cmk_enabled if old.cmk_enabled is not None else new.cmk_enabled,
                   managed_resource_group=old.managed_resource_group or new.managed_resource_group, etag=old.etag,
                   kind=new.kind or old.kind, hub_resource_id=new.hub_resource_id or old.hub_resource_id)


def _strip(row: LedgerRow | None) -> LedgerRow | None:
    if row is None:
        return None
    return replace(row, history=(), base=None, base_until=None, alerts_sent=(), alert_claim=None, reconciled_at=None,
                   arm_said=None, reason=None, noticed=())


def new_episode(old: LedgerRow | None, new: LedgerRow) -> bool:
    """Whether `new` opened an episode that `old` did not have (schedule its alerts): a soft-delete, or one whose
    window had closed when its delete arrived (its Expired alert is still owed)."""
    closed_on_arrival = new.state is LedgerState.EXPIRED and new.reason == CLOSED_ON_ARRIVAL
    if new.state is not LedgerState.SOFT_DELETED and not closed_on_arrival:
        return False
    if closed_on_arrival:
        return old is None or old.deleted_at != new.deleted_at
    return old is None or old.state is not LedgerState.SOFT_DELETED or old.deleted_at != new.deleted_at
