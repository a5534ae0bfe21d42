"""Applies one workspace event: inventory on write, ledger row and alert schedule, and the soft-delete alert."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shared import logs
from shared.azure import tables
from shared.azure.alerts import AlertPublishError
from shared.azure.ml_gateway import MlGateway
from shared.retention.events import Envelope, EventKind, MalformedEvent, WorkspaceEvent, normalise
from shared.retention.inventory import Inventory, InventoryRow
from shared.retention.ledger import HistoryEntry, LedgerRow, LedgerState, RetentionLedger
from shared.retention.notices import Outcome, Selection, deliver
from shared.retention.rules import WorkspaceFacts, apply_event, new_episode, write_entry
from shared.retention.schedule import DELETED, RetentionSchedule, plan
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.workspace_events")


@dataclass(frozen=True)
class EventResult:
    """What handling one delivered event did (for logs and tests)."""

    status: str  # ignored | malformed | applied | unchanged
    event_id: str | None
    row: LedgerRow | None = None
    alert: Outcome | None = None
    inventory_error: str | None = None


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
        now = now or datetime.now(timezone.utc)
        envelope = Envelope.from_object(delivered)
        try:
            event = normalise(envelope, received_at=now)
        except MalformedEvent as exc:
            log.warning("dropping malformed event %s: %s", exc.event_id, exc.problem,
                        extra=logs.fields(kind="event.malformed", event_id=exc.event_id))
            return EventResult("malformed", envelope.id)
        if event is None:
            log.debug("ignoring event %s (%s on %s)", envelope.id, envelope.type, envelope.subject,
                      extra=logs.fields(kind="event.ignored", event_id=envelope.id))
            return EventResult("ignored", envelope.id)
        if not event.time_from_event:
            log.warning("event %s has no event time; using the time it was received", event.event_id,
                        extra=logs.fields(event_id=event.event_id, workspace_id=event.workspace_id))
        if event.kind is EventKind.WRITE:
            return self._write(event, now)
        return self._delete(event, now)

    def _write(self, event: WorkspaceEvent, now: datetime) -> EventResult:
        # Inventory first, ledger second (a concurrent delete does the opposite): one of the two sees the other.
        recorded = self.inventory.record_write(event, MlGateway(self.clients.arm_pipeline()), now=now)
        row, wrote = self._apply(event, now)
        alert = self._alert(row, event, now)
        return EventResult("applied" if wrote else "unchanged", event.event_id, row, alert, recorded.read_error)

    def _delete(self, event: WorkspaceEvent, now: datetime) -> EventResult:
        known = self.inventory.get(event.subscription_id, event.resource_group, event.workspace_name)
        facts = WorkspaceFacts(known.cmk_enabled, known.managed_resource_group) if known else WorkspaceFacts()
        writes = _writes(known)
        row, wrote = self._apply(event, now, facts=facts, writes=writes)
        row = self._later_writes(event, writes, now) or row
        alert = self._alert(row, event, now)
        return EventResult("applied" if wrote else "unchanged", event.event_id, row, alert)

    def _apply(self, event: WorkspaceEvent | None, now: datetime, *, key: tuple[str, str] | None = None,
               facts: WorkspaceFacts | None = None, writes: list[HistoryEntry] = ()) -> tuple[LedgerRow | None, bool]:
        def schedule_first(old: LedgerRow | None, new: LedgerRow) -> None:
            if new_episode(old, new):  # entries before the row: a crash in between leaves only skippable entries
                self.schedule.add(plan(new, self.settings.alert_days, now=now))

        days = self.settings.default_retention_days
        return self.ledger.update(
            *(key or _key(event)),
            lambda current: apply_event(current, event, retention_days=days, facts=facts, writes=writes),
            before_write=schedule_first,
        )

    def _alert(self, row: LedgerRow | None, event: WorkspaceEvent, now: datetime) -> Outcome | None:
        if row is None or row.state is not LedgerState.SOFT_DELETED or DELETED in row.alerts_sent:
            return None
        alert = deliver(self.clients, self.ledger, row.key, _select_deleted, now=now, known=row).outcome
        if alert is Outcome.FAILED:
            # The row is stored; failing the invocation makes Event Grid redeliver (the sweep retries too).
            raise AlertPublishError("AmlLifecycle.Workspace.SoftDeleted", row.workspace_id,
                                    "the alerts topic did not accept it; the ledger row is recorded")
        return alert

    def _later_writes(self, delete: WorkspaceEvent, seen: list[HistoryEntry], now: datetime) -> LedgerRow | None:
        """Writes the inventory recorded meanwhile (a concurrent write handler saw no row yet): fold them in now."""
        known = self.inventory.get(delete.subscription_id, delete.resource_group, delete.workspace_name)
        ids = {w.event_id for w in seen}
        fresh = [w for w in _writes(known) if w.event_id not in ids]
        if not fresh:
            return None
        row, _ = self._apply(None, now, key=_key(delete), writes=fresh)
        return row


def _writes(known: InventoryRow | None) -> list[HistoryEntry]:
    return [write_entry(event_id, at) for at, event_id in known.recent_writes] if known else []


def _key(event: WorkspaceEvent) -> tuple[str, str]:
    return event.subscription_id.lower(), f"{event.resource_group}|{event.workspace_name}".lower()


def _select_deleted(row: LedgerRow, now: datetime) -> Selection | None:
    if row.state is LedgerState.SOFT_DELETED and DELETED not in row.alerts_sent:
        return Selection(DELETED)
    return None
