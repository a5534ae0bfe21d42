"""The retention sweep: alerts before PurgeAfter, marks expired rows, and the optional daily digest.

Its cost follows the schedule entries that are due, never the size of the ledger. It takes "now" as input.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceModifiedError

from shared import logs
from shared.azure import alerts, tables
from shared.retention.arm_probe import WorkspaceProbe
from shared.retention.inventory import Inventory
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
from shared.retention.notices import Outcome, Selection, alert_for, deliver
from shared.retention.reconcile import Reconciler, ReconcileReport
from shared.retention.reconcile_index import ReconcileIndex
from shared.retention.rules import owed_notices, with_notices
from shared.retention.schedule import (
    DELETED,
    EXPIRED,
    OUTBOX,
    OUTBOX_GRACE,
    RetentionSchedule,
    ScheduleEntry,
    alerts_of,
    bucket,
    next_entry,
)
from shared.settings import Settings
from shared.times import iso_z

log = logging.getLogger("aml_lifecycle.sweep")
DIGEST_LEASE = timedelta(minutes=5)
DIGEST_SUBJECT = "/aml-lifecycle/retention"
ROW_AWAITED = timedelta(hours=25)  # Event Grid retries a delivery for up to 24 hours


@dataclass
class SweepReport:
    now: datetime
    due: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)  # (workspace id, alert token)
    stale: int = 0
    failed: int = 0
    busy: int = 0
    digest: str | None = None  # sent | failed | None
    reconcile: ReconcileReport = field(default_factory=ReconcileReport)

    def summary(self) -> str:
        return (f"sweep at {self.now.isoformat()}: {self.due} due, {len(self.sent)} alert(s) sent, {self.stale} stale, "
                f"{self.failed} failed (retried next sweep), {self.busy} held by another sweep, "
                f"digest {self.digest or '-'}; {self.reconcile.summary()}")


def pending(row: LedgerRow | None, token: str, now: datetime) -> bool:
    """Whether the row still owes alert `token` at `now` (the ledger row is the source of truth)."""
    if row is None or token in row.alerts_sent:
        return False
    if row.state is LedgerState.EXPIRED:
        return token == EXPIRED
    if row.state is not LedgerState.SOFT_DELETED:
        return False
    if token == EXPIRED:
        return now >= row.purge_after
    return token == DELETED or now < row.purge_after


def most_urgent(tokens: list[str]) -> Selection:
    """The expiry beats the smallest threshold, which beats the soft-delete notice; the rest are covered by it."""
    def urgency(token: str) -> int:
        return -1 if token == EXPIRED else (10_000 if token == DELETED else int(token))

    ordered = sorted(set(tokens), key=urgency)
    return Selection(ordered[0], tuple(ordered[1:]), expire=ordered[0] == EXPIRED)


class RetentionSweep:
    def __init__(self, clients: Any, settings: Settings, *, probe: Any = None) -> None:
        """`probe(workspace_id) -> ProbeResult` reads ARM (default: a bounded workspace GET through the ARM pipeline)."""
        service = clients.tables()
        self.clients = clients
        self.settings = settings
        self.ledger = RetentionLedger(tables.table(service, tables.RETENTION))
        self.schedule = RetentionSchedule(tables.table(service, tables.SCHEDULE))
        self.reconciler = Reconciler(self.ledger, Inventory(tables.table(service, tables.INVENTORY)),
                                     ReconcileIndex(tables.table(service, tables.RECONCILE)),
                                     probe or WorkspaceProbe(clients.arm_pipeline()))

    def run(self, now: datetime) -> SweepReport:
        report = SweepReport(now)
        groups: dict[tuple[str, str], list[ScheduleEntry]] = defaultdict(list)
        for entry in self.schedule.due(now):
            groups[entry.ledger_key].append(entry)
        report.due = sum(len(g) for g in groups.values())
        report.reconcile = self.reconciler.run(groups.keys(), now)  # before any alert: ARM may show it live
        self.schedule.defer()  # the entries handled are filed and removed in batches, after the alerts
        try:
            for key, entries in groups.items():
                self._handle(key, entries, now, report, report.reconcile.notes.get(key))
        finally:
            self.schedule.flush()
        self.schedule.advance_watermark(bucket(now))
        if self.settings.digest_hour_utc is not None and now.hour >= self.settings.digest_hour_utc:
            report.digest = self._digest(now)
        log.info(report.summary(), extra=logs.fields(kind="sweep.finished"))
        return report

    def _handle(self, key: tuple[str, str], entries: list[ScheduleEntry], now: datetime, report: SweepReport,
                note: dict[str, Any] | None = None) -> None:
        seen = report.reconcile.rows  # the reconciliation's read or write of the row (its ETag guards the claim)
        row = seen[key] if key in seen else self.ledger.get_by_key(*key)

        def due_tokens(current: LedgerRow | None, at: datetime) -> list[str]:
            """Every alert of the entries' episode owed by `at` (one entry stands for the episode's whole plan)."""
            if current is None or not any(e.matches(current) for e in entries):
                return []
            due_by = alerts_of(current, self.settings.alert_days)
            return [t for t, due in due_by if due <= at and pending(current, t, at)]

        if not due_tokens(row, now):
            if row is None and any(e.bucket == OUTBOX and now - e.due_at < ROW_AWAITED for e in entries):
                return  # its publisher crashed before the row: Event Grid's redelivery writes it, then we alert
            if row is not None and not self._past_period(row, entries, now):
                return  # its alert could not be sent: the entries stay for the next sweep
            report.stale += len(entries)
            self._chain(row, entries, now)
            return

        if DELETED in due_tokens(row, now) and any(e.bucket == OUTBOX and now - e.due_at < OUTBOX_GRACE
                                                   for e in entries):
            return  # its claimant may be between its publish and its row write: the next sweep sends it if owed

        def select(current: LedgerRow, at: datetime) -> Selection | None:
            tokens = due_tokens(current, at)
            return most_urgent(tokens) if tokens else None

        delivery = deliver(self.clients, self.ledger, key, select, now=now, known=row,
                           extra=note)
        outcome = delivery.outcome
        if outcome in (Outcome.SENT, Outcome.NOTHING):
            if outcome is Outcome.SENT:
                report.sent.append((delivery.workspace_id, delivery.token))
            self._chain(delivery.row or row, entries, now)
            return
        if outcome is Outcome.FAILED:
            report.failed += 1
        else:
            report.busy += 1
        for entry in entries:  # still owed: keep it ahead of the watermark so the next sweep retries it
            if entry.matches(row):
                self.schedule.postpone(entry, now)
            else:
                self.schedule.remove(entry)

    def _past_period(self, row: LedgerRow, entries: list[ScheduleEntry], now: datetime) -> bool:
        """Send the alert a claimed, since-closed deletion period still owes (its claimant found it covered by a later
        delete before a write split the periods); False if a publish failed or its claimant may still be at work."""
        claimed = {e.deleted_at: e for e in entries if e.bucket == OUTBOX}
        owed = [o for o in owed_notices(row, now) if o.deleted_at in claimed]
        if not owed:
            return True
        if any(now - claimed[o.deleted_at].due_at < OUTBOX_GRACE for o in owed):
            return False
        for opened in owed:
            event_type, data = alert_for(opened, DELETED, now)
            try:
                alerts.publish_alert(self.clients, event_type, opened.workspace_id, data,
                                     event_id=alerts.alert_id(*opened.key, opened.deleted_at.isoformat(), DELETED))
            except alerts.AlertPublishError:
                return False
        try:
            self.ledger.replace_row(with_notices(row, owed), row.etag)
        except ResourceModifiedError:
            log.info("ledger row %s|%s changed while its past period's alert was recorded", *row.key)
        return True

    def _chain(self, row: LedgerRow | None, handled: list[ScheduleEntry], now: datetime) -> None:
        """File the episode's next alert (one entry per open episode), then drop the entries handled."""
        following = None
        if row is not None and any(e.matches(row) for e in handled):
            following = next_entry(row, self.settings.alert_days, now=now)
        if following is not None:
            self.schedule.add([following])  # before the removals: a crash in between leaves a duplicate, not a gap
        for entry in handled:
            if following is None or (entry.bucket, entry.row_key) != (following.bucket, following.row_key):
                self.schedule.remove(entry)

    def _digest(self, now: datetime) -> str | None:
        day = now.strftime("%Y%m%d")
        etag = self.schedule.claim_daily("digest", day, now, DIGEST_LEASE)
        if etag is None:
            return None  # sent already today, or another sweep is sending it
        rows, keys = [], set()
        for entry in self.schedule.upcoming(now):
            if entry.ledger_key in keys:
                continue
            row = self.ledger.get_by_key(*entry.ledger_key)
            if entry.matches(row) and row.state is LedgerState.SOFT_DELETED and now < row.purge_after:
                rows.append(row)
                keys.add(entry.ledger_key)
        rows.sort(key=lambda r: r.purge_after)
        data = {
            "generatedAt": iso_z(now),
            "count": len(rows),
            "workspaces": [
                {"workspaceId": r.workspace_id, "deletedAt": iso_z(r.deleted_at),
                 "purgeAfter": iso_z(r.purge_after),
                 "daysLeft": round(r.time_left(now) / 86400, 1), "deletedBy": r.deleted_by,
                 "cmkEnabled": bool(r.cmk_enabled)}
                for r in rows
            ],
        }
        try:
            alerts.publish_alert(self.clients, alerts.RETENTION_DIGEST, DIGEST_SUBJECT, data,
                                 event_id=alerts.alert_id("digest", day), time=now)
        except alerts.AlertPublishError:
            self.schedule.finish_daily("digest", day, etag, sent=False)
            return "failed"
        self.schedule.finish_daily("digest", day, etag, sent=True)
        return "sent"

