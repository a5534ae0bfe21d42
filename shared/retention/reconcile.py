"""Reconciliation of `SoftDeleted` rows with ARM (docs/retention.md: events are not the truth, ARM is).

Each sweep GETs the workspace of every soft-deleted row it is about to alert on or expire, plus the rows whose
daily check is due (table `RetentionReconcile`): at most `max_reads` GETs, `concurrency` at a time.
404 → still soft-deleted; 200 with the internal id recorded at delete time → `Recovered`; 200 with another id →
the name was re-used (`PermanentlyDeleted`); 200 and no recorded id → closed, saying the two cannot be told apart.
A failed GET changes no state; the row is checked again next sweep and its due alert goes out marked unconfirmed.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Iterable

from shared.retention.arm_probe import ABSENT, FAILED, LIVE, ProbeResult
from shared.retention.inventory import Inventory, InventoryRow
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
from shared.retention.reconcile_index import RETRY, CheckEntry, ReconcileIndex, next_daily
from shared.times import iso_z

log = logging.getLogger("aml_lifecycle.reconcile")

CONCURRENCY = 8
MAX_READS = 2000  # per sweep; the rows due now come first, the daily share fills the rest (the rest waits an hour)
FOUND_LIVE = "found live in ARM"
NAME_REUSED = "name reused"
AMBIGUOUS = ("found live in ARM, but no internal workspace id was recorded at delete time: a recovery cannot be "
             "told from a new workspace re-using the name, so the episode is closed either way")
UNCONFIRMED = ("The app could not confirm with ARM that the workspace is still soft-deleted ({detail}); this alert "
               "goes out anyway and the check is repeated at the next sweep.")


@dataclass
class ReconcileReport:
    reads: int = 0
    due_rows: int = 0
    daily_rows: int = 0
    still_deleted: int = 0
    recovered: int = 0
    reused: int = 0
    failed: int = 0
    notes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # alert annotation per ledger key
    rows: dict[tuple[str, str], LedgerRow | None] = field(default_factory=dict)  # each row as read or written, ETag

    def summary(self) -> str:
        return (f"reconcile: {self.reads} ARM read(s) ({self.due_rows} due, {self.daily_rows} daily), "
                f"{self.still_deleted} still soft-deleted, {self.recovered} recovered, {self.reused} name re-used, "
                f"{self.failed} failed")


def recorded_internal_id(row: LedgerRow, inventory: InventoryRow | None) -> str | None:
    """The deleted workspace's `properties.workspaceId`: the row's copy, else the inventory's unless the inventory
    was read successfully after the delete (then it may describe a recovered or a new workspace: not trusted)."""
    if row.internal_id:
        return row.internal_id
    if inventory is None or not inventory.internal_id:
        return None
    if inventory.internal_ids:
        return inventory.internal_id_at(row.deleted_at)
    if inventory.read_error is None and inventory.read_at is not None and inventory.read_at > row.deleted_at:
        return None
    return inventory.internal_id


def checked(row: LedgerRow | None) -> bool:
    """Rows the sweep checks when they are due: soft-deleted ones, and ones a write event marked recovered (a write
    after a silent purge is a new workspace re-using the name, not a recovery)."""
    return row is not None and (row.state is LedgerState.SOFT_DELETED or (
        row.state is LedgerState.RECOVERED and row.reason is None))


def judge(row: LedgerRow, recorded: str | None, result: ProbeResult, now: datetime) -> LedgerRow:
    """The row after what ARM said (pure). `result` is absent or live; a failed read is never judged."""
    row = replace(row, reconciled_at=now, internal_id=recorded or row.internal_id)
    if result.outcome == ABSENT:
        if row.state is not LedgerState.SOFT_DELETED:
            return replace(row, arm_said="404 Not Found: not live (deleted again? its delete event decides)")
        return replace(row, arm_said="404 Not Found: not live, still soft-deleted (ARM shows a purged workspace "
                                     "the same way)")
    live = result.internal_id
    if row.state is LedgerState.RECOVERED and not (recorded and live and recorded.lower() != live.lower()):
        return replace(row, arm_said=f"200 OK: live, internal workspace id {live or 'not given'}")
    if recorded and live and recorded.lower() == live.lower():
        return replace(row, state=LedgerState.RECOVERED, reason=FOUND_LIVE,
                       arm_said=f"200 OK: live, same internal workspace id {live}")
    if recorded and live:
        return replace(row, state=LedgerState.PERMANENTLY_DELETED,
                       reason=f"{NAME_REUSED}: a new workspace (internal id {live}) holds the name; the deleted one "
                              f"(internal id {recorded}) is gone for good",
                       arm_said=f"200 OK: live, another internal workspace id {live}")
    return replace(row, state=LedgerState.RECOVERED, reason=AMBIGUOUS,
                   arm_said=f"200 OK: live, internal workspace id {live or 'not given'}")


class _Locked:
    """The report, counted from several worker threads."""

    def __init__(self, report: ReconcileReport, lock: threading.Lock) -> None:
        self._report, self._lock = report, lock

    def add(self, name: str, key: tuple[str, str] | None = None, note: dict[str, Any] | None = None) -> None:
        with self._lock:
            setattr(self._report, name, getattr(self._report, name) + 1)
            if key is not None and note is not None:
                self._report.notes[key] = note

    def row(self, key: tuple[str, str], row: LedgerRow | None) -> None:
        with self._lock:
            self._report.rows[key] = row


class Reconciler:
    def __init__(self, ledger: RetentionLedger, inventory: Inventory, index: ReconcileIndex,
                 probe: Callable[[str], ProbeResult], *, concurrency: int = CONCURRENCY,
                 max_reads: int = MAX_READS) -> None:
        self.ledger, self.inventory, self.index, self.probe = ledger, inventory, index, probe
        self.concurrency = max(1, concurrency)
        self.max_reads = max(1, max_reads)

    def run(self, due_keys: Iterable[tuple[str, str]], now: datetime) -> ReconcileReport:
        """Check the soft-deleted rows among `due_keys`, then the daily share; apply what ARM said."""
        report = ReconcileReport()
        due = list(dict.fromkeys(due_keys))
        for key in due[self.max_reads:]:  # over the budget: their alerts go out unconfirmed, checked next sweep
            detail = f"not checked: over this sweep's budget of {self.max_reads} ARM reads"
            report.notes[key] = {"armCheck": {"status": "unconfirmed", "detail": detail,
                                              "message": UNCONFIRMED.format(detail=detail)}}
        due = due[: self.max_reads]
        work: dict[tuple[str, str], list[CheckEntry]] = {key: [] for key in due}
        for entry in self.index.due(now, self.max_reads - len(due)):
            work.setdefault(entry.ledger_key, []).append(entry)
        if not work:
            return report
        lock = threading.Lock()
        counted = _Locked(report, lock)
        rows = self.ledger.get_many(work)  # one query per partition and 14 rows
        unrecorded = [key for key, row in rows.items() if checked(row) and not row.internal_id]
        inventories = self.inventory.get_many(unrecorded) if unrecorded else {}

        def check(key: tuple[str, str]) -> None:  # GET, write: `concurrency` rows at a time
            entries = work[key]
            row = rows.get(key)
            counted.row(key, row)
            if not checked(row):
                for entry in entries:
                    self.index.drop(entry)  # the episode is over: no more daily checks
                return
            counted.add("reads")
            counted.add("due_rows" if key in due_set else "daily_rows")
            self._apply(key, row, entries, self.probe(row.workspace_id), now, counted, inventories.get(key))

        due_set = set(due)
        self.index.defer()  # the index's writes go out after the rows', grouped by hour bucket
        try:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(work)),
                                    thread_name_prefix="reconcile") as pool:
                list(pool.map(check, list(work)))
        finally:
            self.index.flush()
        log.info(report.summary())
        return report

    def _apply(self, key: tuple[str, str], row: LedgerRow, entries: list[CheckEntry], result: ProbeResult,
               now: datetime, report: "_Locked", inventory: InventoryRow | None = None) -> None:
        first = entries[0] if entries else None
        if result.outcome == FAILED:
            report.add("failed", key, {"armCheck": {"status": "unconfirmed", "detail": result.detail,
                                                    "message": UNCONFIRMED.format(detail=result.detail)}})
            self._refile(key, entries, now + RETRY, first)  # retried next sweep; the state is left alone
            return
        recorded = None
        if result.outcome == LIVE or not row.internal_id:
            recorded = recorded_internal_id(row, inventory)
        judged = judge(row, recorded, result, now)

        def change(current: LedgerRow | None) -> LedgerRow | None:
            if current is None or (current.state, current.reason, current.deleted_at, current.purge_after) != (
                    row.state, row.reason, row.deleted_at, row.purge_after):
                return None  # an event or another sweep moved the row on meanwhile
            settled = replace(current, state=judged.state, reason=judged.reason, arm_said=judged.arm_said,
                              reconciled_at=judged.reconciled_at, internal_id=judged.internal_id,
                              source="reconcile" if judged.state is not current.state else current.source)
            if settled.state is current.state:
                return settled
            # ARM's answer supersedes the events so far: fold them into the base, so an older event is stale and a
            # newer one steps from the settled state (a later delete opens a new episode; rules.py, ordering).
            base = replace(settled, history=(), base=None, base_until=None, alerts_sent=(), alert_claim=None,
                           reconciled_at=None, arm_said=None, reason=None, etag=None)
            return replace(settled, history=(), base=base, base_until=max(now, current.last_event_time or now))

        stored, wrote = self.ledger.update(*key, change, known=row)
        report.row(key, stored)
        if not wrote and stored is not None and checked(stored) and (stored.state, stored.reason) != (
                row.state, row.reason):
            self._refile(key, entries, now + RETRY, first)  # an event moved it on meanwhile: look again next sweep
            return
        if row.state is not LedgerState.SOFT_DELETED:  # a row a write event marked recovered: checked once
            for entry in entries:
                self.index.drop(entry)
            if judged.state is not row.state:
                report.add("reused")
                log.info("reconcile: %s is %s (%s)", row.workspace_id, judged.state.value, judged.reason)
            return
        if judged.state is LedgerState.SOFT_DELETED:
            report.add("still_deleted", key, {"armCheck": {"status": "confirmed", "at": iso_z(now),
                                                           "armSaid": judged.arm_said}})
            self._refile(key, entries, next_daily(key, now), first)
            return
        if judged.state is LedgerState.RECOVERED:
            report.add("recovered")
        else:
            report.add("reused")
        log.info("reconcile: %s is %s (%s)", row.workspace_id, judged.state.value, judged.reason)
        for entry in entries:
            self.index.drop(entry)

    def _refile(self, key: tuple[str, str], entries: list[CheckEntry], at: datetime, first: CheckEntry | None) -> None:
        kept = self.index.file(key, at, previous=first)
        for extra in entries[1:]:
            if extra.bucket != kept.bucket:
                self.index.drop(extra)
