"""Applies one workspace event: the ledger row, the episode's next schedule entry and the soft-delete alert.

A new soft delete costs three storage requests (inventory read, schedule entry, ledger create) plus the publish; a
redelivery one (the ledger read answers "seen"). See docs/retention.md, "Cost of an event".
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

from shared import logs
from shared.azure import alerts, tables
from shared.azure.arm_ids import workspace_id
from shared.azure.ml_gateway import MlGateway
from shared.azure.workspace_kind import HUB
from shared.retention import kinds
from shared.retention.alert_claims import claim_and_publish, release
from shared.retention.event_trust import refusal
from shared.retention.events import (
    Envelope,
    EventKind,
    GroupDeleteEvent,
    MalformedEvent,
    WorkspaceEvent,
    WriteFailureEvent,
    normalise,
)
from shared.retention.inventory import Inventory, InventoryRow
from shared.retention.ledger import (
    MAX_UPDATE_ATTEMPTS,
    HistoryEntry,
    LedgerConflictError,
    LedgerRow,
    LedgerState,
    RetentionLedger,
)
from shared.retention.name_blocked import on_write_failure
from shared.retention.notices import Outcome
from shared.retention.recent import forget_recent, recently_handled, remember  # noqa: F401
from shared.retention.rules import (
    WorkspaceFacts,
    apply_event,
    new_episode,
    notice_key,
    owed_notices,
    seen,
    with_notices,
    write_entry,
)
from shared.retention.schedule import (
    RetentionSchedule,
    first_entry,
    outbox_entry,
)
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.workspace_events")

# A delete this recent, of a workspace this process has not handled lately, is most likely new: the row is created
# without a read (a 409 falls back to read-modify-write). Older, or a key seen lately: read first (a redelivery is
# then one request). Either path is correct; only the cost differs.
FRESH = timedelta(minutes=5)
ROW_DEADLINE = timedelta(seconds=5)  # how long a write waits for the row of a delete claimed in flight
USER_ASSIGNED_ONLY = ("the workspace uses only user-assigned managed identities: Azure Machine Learning does not "
                      "soft-delete such a workspace, the delete is permanent (docs: concept-soft-delete)")


class RowNotYetWrittenError(RuntimeError):
    """A write found a claimed delete whose row is not written yet: raised so Event Grid redelivers the write."""


@dataclass(frozen=True)
class EventResult:
    """What handling one delivered event did (for logs and tests)."""

    status: str  # ignored | malformed | refused | applied | unchanged | sent (a NameBlocked alert)
    event_id: str | None
    row: LedgerRow | None = None
    alert: Outcome | None = None
    inventory_error: str | None = None


def facts_of(known: InventoryRow | None) -> WorkspaceFacts:
    """What the inventory adds to a delete: CMK facts, the workspace's own retention, whether it is soft-deleted."""
    if known is None:
        return WorkspaceFacts()
    days = known.retention_days if known.retention_days is not None and 1 <= known.retention_days <= 14 else None
    reason = USER_ASSIGNED_ONLY if (known.identity_type or "").replace(" ", "").lower() == "userassigned" else None
    return WorkspaceFacts(known.cmk_enabled, known.managed_resource_group, days, reason, known.kind,
                          known.hub_resource_id)


class RetentionEvents:
    """The service behind the Event Grid trigger; storage faults raise (Event Grid redelivers), bad events do not."""

    def __init__(self, clients: Any, settings: Settings) -> None:
        service = clients.tables()
        self.clients = clients
        self.settings = settings
        self.ledger = RetentionLedger(tables.table(service, tables.RETENTION))
        self.inventory = Inventory(tables.table(service, tables.INVENTORY))
        self.schedule = RetentionSchedule(tables.table(service, tables.SCHEDULE))

    def handle(self, delivered: Any, *, now: datetime | None = None) -> EventResult:
        """Apply one delivered event: its JSON text (the webhook binding), a dict, or an azure.functions event."""
        now = now or datetime.now(timezone.utc)
        try:
            envelope = Envelope.from_object(delivered)
            event = normalise(envelope, received_at=now)
        except MalformedEvent as exc:
            log.warning("dropping malformed event %s: %s", exc.event_id, exc.problem,
                        extra=logs.fields(kind="event.malformed", event_id=exc.event_id))
            return EventResult("malformed", exc.event_id)
        if event is None:
            log.debug("ignoring event %s (%s on %s)", envelope.id, envelope.type, envelope.subject,
                      extra=logs.fields(kind="event.ignored", event_id=envelope.id))
            return EventResult("ignored", envelope.id)
        refused = refusal(self.clients, self.settings, envelope, event)
        if refused is not None:
            log.warning("refusing event %s: %s; nothing recorded", envelope.id, refused,
                        extra=logs.fields(kind="event.refused", event_id=envelope.id))
            return EventResult("refused", envelope.id)
        if isinstance(event, GroupDeleteEvent):
            return self._group(event, now)
        if isinstance(event, WriteFailureEvent):
            return EventResult(on_write_failure(self.clients, self.ledger, event), event.event_id)
        if not event.time_from_event:
            log.warning("event %s has no event time; using the time it was received", event.event_id,
                        extra=logs.fields(event_id=event.event_id, workspace_id=event.workspace_id))
        if event.kind is EventKind.WRITE:
            return self._write(event, now)
        return self._delete(event, now)

    def apply_delete(self, event: WorkspaceEvent, *, now: datetime) -> EventResult:
        """A delete learned from the Activity Log: the same rules and alerts as an Event Grid delete (rules.py folds
        the two records of one operation into one deletion)."""
        return self._delete(event, now)

    def _write(self, event: WorkspaceEvent, now: datetime) -> EventResult:
        # Inventory first, ledger second (a concurrent delete does the opposite): one of the two sees the other.
        recorded = self.inventory.record_write(event, MlGateway(self.clients.arm_pipeline()), now=now)
        key = _key(event)
        current = self.ledger.get_by_key(*key)
        if current is None and self.schedule.claims_of(key):
            current = self._await_row(key)  # a delete in flight read the inventory before this write was noted
        result = self._store(key, event, now, WorkspaceFacts(), (), current)
        return EventResult(result.status, result.event_id, result.row, result.alert, recorded.read_error)

    def _delete(self, event: WorkspaceEvent, now: datetime) -> EventResult:
        key = _key(event)
        claims: dict[datetime, bool] = {}
        current = None
        fresh = now - event.event_time < FRESH and not recently_handled(key)
        if not fresh:  # late or repeated: the row read answers a redelivery in one request
            current = self.ledger.get_by_key(*key)
            if seen(current, event.event_id, event.event_time):
                return self._store(key, None, now, WorkspaceFacts(), (), current, claims)
        # Claim the deletion's alert (one insert keyed by workspace and DeletedAt) before reading the inventory: a
        # redelivery on any instance finds it taken, and a concurrent write handler that finds no row sees it.
        claims[event.event_time] = self.schedule.claim(outbox_entry(key, event.event_time, None, now=now))
        if fresh and not claims[event.event_time]:  # delivered before, here or elsewhere: read what it left
            current = self.ledger.get_by_key(*key)
            if seen(current, event.event_id, event.event_time):
                return self._store(key, None, now, WorkspaceFacts(), (), current, claims)
        known = self.inventory.get(event.subscription_id, event.resource_group, event.workspace_name)
        result = self._store(key, event, now, facts_of(known), _writes(known), current, claims)
        if known is not None and known.kind == HUB:
            self._hub_projects(event, known, now)
        return result

    def _await_row(self, key: tuple[str, str]) -> LedgerRow:
        """The row a claimed delete is about to create (it claims, reads the inventory, then writes the row): polled
        until ROW_DEADLINE; raises RowNotYetWrittenError after it (the delete crashed: Event Grid redelivers both)."""
        deadline = time.monotonic() + ROW_DEADLINE.total_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            row = self.ledger.get_by_key(*key)
            if row is not None:
                return row
        raise RowNotYetWrittenError(f"ledger row {key[0]}|{key[1]}: a delete claimed it but has not written it yet; "
                                    "the write is retried by Event Grid")

    def _group(self, event: GroupDeleteEvent, now: datetime) -> EventResult:
        """Each workspace the inventory holds in a deleted resource group is deleted with it (with that reason).

        One that the ledger already shows deleted, and that no write or read has shown alive since, is left alone.
        """
        applied = False
        for known in self.inventory.in_group(event.group.subscription_id, event.group.name):
            current = self.ledger.get_by_key(*known.key)
            if _deleted_since_alive(current, known):
                continue
            workspace = workspace_id(event.group.subscription_id, event.group.name, known.workspace_name)
            result = self._store(known.key, event.workspace_event(workspace), now, facts_of(known), _writes(known),
                                 current)
            applied = applied or result.status == "applied"
        log.info("resource group %s deleted (event %s): its inventoried workspaces recorded", event.group.id,
                 event.event_id)
        return EventResult("applied" if applied else "unchanged", event.event_id)

    def _hub_projects(self, event: WorkspaceEvent, hub: InventoryRow, now: datetime) -> None:
        """A hub's delete deletes its projects (kinds.HUB_DELETE_DOC): each inventoried one is recorded with it,
        unless the ledger already shows it deleted with nothing alive since (as for a resource group)."""
        for project in kinds.projects_of(self.inventory, hub):
            current = self.ledger.get_by_key(*project.key)
            if _deleted_since_alive(current, project):
                continue
            self._store(project.key, kinds.project_delete(event, project), now, facts_of(project), _writes(project),
                        current)

    def _store(self, key: tuple[str, str], event: WorkspaceEvent | None, now: datetime, facts: WorkspaceFacts,
               writes: tuple[HistoryEntry, ...] | list[HistoryEntry], current: LedgerRow | None,
               claims: dict[datetime, bool] | None = None) -> EventResult:
        """Fold the event into the row; publish the soft-delete alerts it owes and whose claim this call holds, then
        write the row with them recorded (docs/retention.md, "Alerts once").

        `current` is the row as read, or None (absent, or not read: created blind, a 409 falls back to a read).
        `claims`: DeletedAt of each deletion period whose outbox entry this invocation tried to insert, and whether
        it did (won the claim). An owed alert is
        published only after its claim is won; a claim held elsewhere leaves it to that instance or, if it crashed,
        to the sweep draining the outbox. Raises AlertPublishError after storing the row when a publish failed (the
        sweep sends it), LedgerConflictError under endless contention.
        """
        days = facts.retention_days or self.settings.default_retention_days
        claims = {} if claims is None else claims
        published: set[str] = set()  # alerts out in this invocation: a retry after a conflict does not resend them
        for _ in range(MAX_UPDATE_ATTEMPTS):
            changed = apply_event(current, event, retention_days=days, facts=facts, writes=writes, now=now)
            base = changed or current
            owed = owed_notices(base, now) if base is not None else []
            if changed is None and not owed:
                return EventResult("unchanged", event.event_id if event else None, current)
            entry = first_entry(with_notices(base, owed), self.settings.alert_days, now=now) \
                if changed is not None and new_episode(current, changed) else None
            failed = claim_and_publish(self.clients, self.schedule, owed, entry, claims, published, now)
            new = with_notices(base, [row for row in owed if notice_key(row) in published])
            if changed is None and new == current:
                return EventResult("unchanged", event.event_id if event else None, current)
            try:
                if current is None:
                    stored = self.ledger.create(new)
                else:
                    stored = self.ledger.replace_row(new, current.etag)
            except (ResourceExistsError, ResourceModifiedError):
                log.debug("ledger row %s|%s changed concurrently; reading it", *key)
                current = self.ledger.get_by_key(*key)
                continue
            remember(key)
            logs.ledger_transition(current, new)
            if failed:
                release(self.schedule, owed, claims, published, now)
                raise alerts.AlertPublishError(alerts.WORKSPACE_SOFT_DELETED, new.workspace_id,
                                               "the alerts topic did not accept it; the ledger row is recorded and "
                                               "the next sweep sends it")
            alert = Outcome.SENT if published else None
            return EventResult("applied" if changed is not None else "unchanged",
                               event.event_id if event else None, stored, alert)
        raise LedgerConflictError(f"ledger row {key[0]}|{key[1]} kept changing; gave up after {MAX_UPDATE_ATTEMPTS}")


def _deleted_since_alive(current: LedgerRow | None, known: InventoryRow) -> bool:
    """The ledger already shows the workspace deleted, and no write or read has shown it alive since."""
    alive = max((t for t in (known.last_write_time, known.read_at) if t is not None), default=None)
    return current is not None and current.state is not LedgerState.RECOVERED and bool(current.last_event_time) \
        and (alive is None or alive <= current.last_event_time)


def _writes(known: InventoryRow | None) -> list[HistoryEntry]:
    return [write_entry(event_id, at) for at, event_id in known.recent_writes] if known else []


def _key(event: WorkspaceEvent) -> tuple[str, str]:
    return event.subscription_id.lower(), f"{event.resource_group}|{event.workspace_name}".lower()
