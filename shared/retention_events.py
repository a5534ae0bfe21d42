"""Applies one workspace event: inventory on write, ledger row and alert schedule, and the soft-delete alert."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shared import tables
from shared.alerts import AlertPublishError
from shared.inventory import Inventory, InventoryRow
from shared.ml_gateway import MlGateway
from shared.retention_ledger import LedgerRow, LedgerState, RetentionLedger
from shared.retention_notices import Outcome, Selection, deliver
from shared.retention_rules import WorkspaceFacts, apply_event, new_episode
from shared.retention_schedule import DELETED, RetentionSchedule, plan
from shared.settings import Settings
from shared.workspace_events import Envelope, EventKind, MalformedEvent, WorkspaceEvent, normalise

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
            log.warning("dropping malformed event %s: %s", exc.event_id, exc.problem)
            return EventResult("malformed", envelope.id)
        if event is None:
            log.debug("ignoring event %s (%s on %s)", envelope.id, envelope.type, envelope.subject)
            return EventResult("ignored", envelope.id)
        if not event.time_from_event:
            log.warning("event %s has no event time; using the time it was received", event.event_id)
        if event.kind is EventKind.WRITE:
            return self._write(event, now)
        return self._delete(event, now)

    def _write(self, event: WorkspaceEvent, now: datetime) -> EventResult:
        # Inventory first, ledger second (a concurrent delete does the opposite): one of the two sees the other.
        recorded = self.inventory.record_write(event, MlGateway(self.clients.arm_pipeline()), now=now)
        row, wrote = self._apply(event)
        return EventResult("applied" if wrote else "unchanged", event.event_id, row, inventory_error=recorded.read_error)

    def _delete(self, event: WorkspaceEvent, now: datetime) -> EventResult:
        known = self.inventory.get(event.subscription_id, event.resource_group, event.workspace_name)
        facts = WorkspaceFacts(known.cmk_enabled, known.managed_resource_group) if known else WorkspaceFacts()

        def schedule_first(old: LedgerRow | None, new: LedgerRow) -> None:
            if new_episode(old, new):
                self.schedule.add(plan(new, self.settings.alert_days, now=now))

        row, wrote = self.ledger.update(
            *_key(event), lambda current: apply_event(current, event, retention_days=self.settings.default_retention_days,
                                                      facts=facts),
            before_write=schedule_first,
        )
        row = self._later_write(event) or row
        alert = None
        if row is not None and row.state is LedgerState.SOFT_DELETED and DELETED not in row.alerts_sent:
            alert = deliver(self.clients, self.ledger, row.key, _select_deleted, now=now)
            if alert is Outcome.FAILED:
                # The row is stored; failing the invocation makes Event Grid redeliver (the sweep retries too).
                raise AlertPublishError("AmlLifecycle.Workspace.SoftDeleted", event.workspace_id,
                                        "the alerts topic did not accept it; the ledger row is recorded")
        return EventResult("applied" if wrote else "unchanged", event.event_id, row, alert)

    def _apply(self, event: WorkspaceEvent) -> tuple[LedgerRow | None, bool]:
        return self.ledger.update(
            *_key(event), lambda current: apply_event(current, event, retention_days=self.settings.default_retention_days)
        )

    def _later_write(self, delete: WorkspaceEvent) -> LedgerRow | None:
        """A write newer than this delete recorded before the row existed (delivered first): apply it now."""
        known: InventoryRow | None = self.inventory.get(delete.subscription_id, delete.resource_group, delete.workspace_name)
        if known is None or known.last_write_time is None or known.last_write_time <= delete.event_time:
            return None
        write = WorkspaceEvent(known.last_write_event_id or "", EventKind.WRITE, delete.workspace, known.last_write_time)
        row, _ = self._apply(write)
        return row


def _key(event: WorkspaceEvent) -> tuple[str, str]:
    return event.subscription_id.lower(), f"{event.resource_group}|{event.workspace_name}".lower()


def _select_deleted(row: LedgerRow, now: datetime) -> Selection | None:
    if row.state is LedgerState.SOFT_DELETED and DELETED not in row.alerts_sent:
        return Selection(DELETED)
    return None
