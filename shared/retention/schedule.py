"""Table `RetentionSchedule`: each open episode's next alert, keyed by due hour, so the sweep reads only what is due."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.azure.table_batch import HeldWrites
from shared.retention.ledger import LedgerRow, LedgerState, utc

log = logging.getLogger("aml_lifecycle.schedule")

DELETED = "deleted"  # the soft-delete alert, retried by the sweep if the event handler could not send it
EXPIRED = "expired"
CONTROL_PARTITION = "~control"  # sorts after every hour bucket, so range queries over buckets never see it
# Each deletion period's first entry (docs/retention.md, "Alerts once"): keyed by the workspace and its DeletedAt, so
# its insert is the claim on the SoftDeleted alert (one instance wins it, whatever the redelivery), and the sweep reads
# the whole partition every run (the outbox: an alert whose publisher crashed before writing the row goes out then).
OUTBOX = "~outbox"
OUTBOX_GRACE = timedelta(minutes=2)  # the claiming instance publishes and writes the row well within this
WATERMARK = "watermark"
SKEW = timedelta(hours=1)  # re-read one bucket below the watermark: writers' clocks may lag the sweep's


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="schedule")
        return _executor


def bucket(at: datetime) -> str:
    return utc(at).strftime("%Y%m%d%H")


def bucket_time(name: str) -> datetime:
    return datetime.strptime(name, "%Y%m%d%H").replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ScheduleEntry:
    """One alert of one soft-delete episode (identified by its PurgeAfter), due at `due_at`, filed in `bucket`."""

    ledger_pk: str
    ledger_rk: str
    token: str
    due_at: datetime
    purge_after: datetime
    bucket: str
    deleted_at: datetime | None = None  # an outbox entry's deletion period (its DeletedAt); None in hour buckets

    @property
    def ledger_key(self) -> tuple[str, str]:
        return self.ledger_pk, self.ledger_rk

    @property
    def row_key(self) -> str:
        if self.deleted_at is not None:
            return f"{self.ledger_pk}|{self.ledger_rk}|{self.token}|{utc(self.deleted_at):%Y%m%dT%H%M%S%fZ}"
        return f"{self.ledger_pk}|{self.ledger_rk}|{self.token}"

    def to_entity(self) -> dict[str, Any]:
        entity = {
            "PartitionKey": self.bucket, "RowKey": self.row_key, "LedgerPartitionKey": self.ledger_pk,
            "LedgerRowKey": self.ledger_rk, "Token": self.token, "DueAt": self.due_at, "PurgeAfter": self.purge_after,
        }
        if self.deleted_at is not None:
            entity["DeletedAt"] = self.deleted_at
        return entity

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> "ScheduleEntry":
        return cls(entity["LedgerPartitionKey"], entity["LedgerRowKey"], entity["Token"], utc(entity["DueAt"]),
                   utc(entity["PurgeAfter"]), entity["PartitionKey"], utc(entity.get("DeletedAt")))

    def matches(self, row: LedgerRow | None) -> bool:
        """Still about the row's current episode (a recovered-then-deleted-again workspace has a new PurgeAfter;
        an outbox entry names its deletion period by DeletedAt)."""
        if row is None:
            return False
        if self.deleted_at is not None:
            return row.deleted_at == self.deleted_at
        return row.purge_after == self.purge_after


def outbox_entry(ledger_key: tuple[str, str], deleted_at: datetime, purge_after: datetime | None,
                 *, now: datetime) -> ScheduleEntry:
    """A deletion period's first entry (its claim and outbox), due at the next sweep (filed at `now`)."""
    return ScheduleEntry(*ledger_key, DELETED, now, purge_after or deleted_at, OUTBOX, deleted_at)


def alerts_of(row: LedgerRow, alert_days: Iterable[int]) -> list[tuple[str, datetime]]:
    """(token, due time) of every alert of the row's episode: the soft-delete notice, each threshold, the expiry."""
    due = [(DELETED, row.deleted_at)] + [(str(d), row.purge_after - timedelta(days=d)) for d in alert_days]
    return [*due, (EXPIRED, row.purge_after)]


def next_entry(row: LedgerRow, alert_days: Iterable[int], *, now: datetime) -> ScheduleEntry | None:
    """The one entry an open episode keeps: its earliest alert not yet sent (None when none is left).

    The sweep files the following one when it handles this one, so an episode costs one schedule write per alert
    instead of all of them up front. Never filed into an hour the sweep may already have passed.
    """
    if row.state not in (LedgerState.SOFT_DELETED, LedgerState.EXPIRED):
        return None
    pending = [(at, token) for token, at in alerts_of(row, alert_days) if token not in row.alerts_sent]
    if row.state is LedgerState.EXPIRED:  # closed: only its expiry notice can still be owed
        pending = [(at, token) for at, token in pending if token == EXPIRED]
    if not pending:
        return None
    at, token = min(pending, key=lambda p: (p[0], p[1] != DELETED))
    pk, rk = row.key
    return ScheduleEntry(pk, rk, token, at, row.purge_after, max(bucket(at), bucket(now)))


def first_entry(row: LedgerRow, alert_days: Iterable[int], *, now: datetime) -> ScheduleEntry | None:
    """A new episode's one entry: due at the next sweep, whose reconciliation then checks the workspace with ARM
    (a recovery or purge may emit no event) and enrols it in the daily checks; handling it files the first alert's.
    Its token is the soft-delete notice's, owed only if that alert could not be sent at ingestion."""
    if next_entry(row, alert_days, now=now) is None:
        return None
    return outbox_entry(row.key, row.deleted_at, row.purge_after, now=now)


def plan(row: LedgerRow, alert_days: Iterable[int], *, now: datetime) -> list[ScheduleEntry]:
    """The row's next entry as a list (empty or one)."""
    entry = next_entry(row, alert_days, now=now)
    return [entry] if entry else []


class RetentionSchedule:
    def __init__(self, table_client: TableClient) -> None:
        self._table = table_client
        self._held: HeldWrites | None = None

    def defer(self) -> None:
        """Hold add() and remove() until flush() (a sweep: its writes share hour buckets, so they batch)."""
        self._held = HeldWrites(self._table)

    def flush(self) -> None:
        """Write the held entries, then remove the held ones (HeldWrites: batches, every add first). Failures raise."""
        held, self._held = self._held, None
        if held is not None:
            held.flush()

    def add(self, entries: Iterable[ScheduleEntry]) -> None:
        """Upsert the entries (each in its own hour partition: no batch), concurrently; any failure raises."""
        entities = [entry.to_entity() for entry in entries]
        if self._held is not None:
            self._held.upserts.extend(entities)
            return
        if len(entities) <= 1:
            for entity in entities:
                self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
            return
        futures = [_pool().submit(self._table.upsert_entity, e, mode=UpdateMode.REPLACE) for e in entities]
        for future in futures:
            future.result()

    def claim(self, entry: ScheduleEntry) -> bool:
        """Insert `entry` (an outbox entry): True if this call created it, False if it was there (409)."""
        try:
            self._table.create_entity(entry.to_entity(), response_preference="return-no-content")
            return True
        except ResourceExistsError:
            return False

    def claims_of(self, ledger_key: tuple[str, str]) -> list[ScheduleEntry]:
        """The outbox entries (claims) of one workspace: deletion periods not yet handled by a sweep."""
        prefix = f"{ledger_key[0]}|{ledger_key[1]}|"
        entities = self._table.query_entities(
            "PartitionKey eq @outbox and RowKey ge @low and RowKey lt @high",
            parameters={"outbox": OUTBOX, "low": prefix, "high": prefix[:-1] + "}"})
        return [ScheduleEntry.from_entity(e) for e in entities]

    def remove(self, entry: ScheduleEntry) -> None:
        if self._held is not None:
            self._held.deletes.append((entry.bucket, entry.row_key))
            return
        try:
            self._table.delete_entity(entry.bucket, entry.row_key)
        except ResourceNotFoundError:
            pass  # another sweep got there first

    def postpone(self, entry: ScheduleEntry, now: datetime) -> ScheduleEntry:
        """File a still-pending entry into the current hour so the watermark can move past its old bucket."""
        current = bucket(now)
        if entry.bucket >= current:
            return entry
        moved = ScheduleEntry(entry.ledger_pk, entry.ledger_rk, entry.token, entry.due_at, entry.purge_after, current)
        self.add([moved])
        self.remove(entry)
        return moved

    def due(self, now: datetime) -> list[ScheduleEntry]:
        """Entries due by `now`, read from the buckets between the watermark and now's bucket, and the outbox."""
        low = self.watermark()
        high = bucket(now)
        low = bucket(bucket_time(low) - SKEW) if low else "0000000000"
        entities = list(self._table.query_entities(
            "PartitionKey ge @low and PartitionKey le @high and DueAt le @now",
            parameters={"low": low, "high": high, "now": utc(now)},
        ))
        entities += self._table.query_entities("PartitionKey eq @outbox and DueAt le @now",
                                               parameters={"outbox": OUTBOX, "now": utc(now)})
        return [ScheduleEntry.from_entity(e) for e in entities]

    def upcoming(self, now: datetime) -> Iterator[ScheduleEntry]:
        """Entries filed in now's bucket or later: each open episode's next alert (after a sweep has run)."""
        entities = self._table.query_entities(
            "(PartitionKey ge @low and PartitionKey lt @control ) or PartitionKey eq @outbox",
            parameters={"low": bucket(now), "control": CONTROL_PARTITION, "outbox": OUTBOX},
        )
        return (ScheduleEntry.from_entity(e) for e in entities)

    # watermark: the oldest bucket that may still hold due entries ---------------------------------------
    def watermark(self) -> str | None:
        try:
            return self._table.get_entity(CONTROL_PARTITION, WATERMARK)["Bucket"]
        except ResourceNotFoundError:
            return None

    def advance_watermark(self, to_bucket: str) -> None:
        """Move the watermark forward only (overlapping sweeps never move it back)."""
        for _ in range(5):
            try:
                current = self._table.get_entity(CONTROL_PARTITION, WATERMARK)
            except ResourceNotFoundError:
                try:
                    self._table.create_entity(
                        {"PartitionKey": CONTROL_PARTITION, "RowKey": WATERMARK, "Bucket": to_bucket})
                    return
                except ResourceExistsError:
                    continue
            if current["Bucket"] >= to_bucket:
                return
            try:
                self._table.update_entity({"PartitionKey": CONTROL_PARTITION, "RowKey": WATERMARK, "Bucket": to_bucket},
                                          mode=UpdateMode.REPLACE, etag=current.metadata["etag"],
                                          match_condition=MatchConditions.IfNotModified)
                return
            except ResourceModifiedError:
                continue
        log.info("watermark not advanced to %s (contention); the next sweep reads a little more", to_bucket)

    # once-a-day markers (the digest) ---------------------------------------------------------------------
    def claim_daily(self, name: str, day: str, now: datetime, lease: timedelta) -> str | None:
        """Claim the day's `name` job; returns the claim's ETag, or None if sent or claimed by a live sweep."""
        row_key = f"{name}|{day}"
        entity = {"PartitionKey": CONTROL_PARTITION, "RowKey": row_key, "Status": "claimed",
                  "ClaimUntil": utc(now + lease)}
        try:
            return self._table.create_entity(entity)["etag"]
        except ResourceExistsError:
            pass
        current = self._table.get_entity(CONTROL_PARTITION, row_key)
        if current.get("Status") == "sent" or (current.get("ClaimUntil") and utc(current["ClaimUntil"]) > utc(now)):
            return None
        try:  # an expired claim: its sweep died
            return self._table.update_entity(entity, mode=UpdateMode.REPLACE, etag=current.metadata["etag"],
                                             match_condition=MatchConditions.IfNotModified)["etag"]
        except ResourceModifiedError:
            return None

    def finish_daily(self, name: str, day: str, etag: str, *, sent: bool) -> None:
        row_key = f"{name}|{day}"
        try:
            if sent:
                self._table.update_entity({"PartitionKey": CONTROL_PARTITION, "RowKey": row_key, "Status": "sent"},
                                          mode=UpdateMode.REPLACE, etag=etag,
                                          match_condition=MatchConditions.IfNotModified)
            else:
                self._table.delete_entity(CONTROL_PARTITION, row_key, etag=etag,
                                          match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            log.warning("daily %s for %s: claim lost before it could be recorded", name, day)
