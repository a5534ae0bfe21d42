"""Table `RetentionReconcile`: when each soft-deleted row is next checked against ARM, keyed by hour bucket."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.azure.table_batch import HeldWrites
from shared.retention.ledger import utc
from shared.retention.schedule import bucket

RETRY = timedelta(hours=1)
LOW = "0000000000"


def next_daily(ledger_key: tuple[str, str], now: datetime) -> datetime:
    """The next time after `now` in the row's own hour of the day (a hash of its key): rows spread evenly over the
    24 hourly sweeps, and every entry of one row lands in the same bucket (duplicates merge)."""
    slot = zlib.crc32("|".join(ledger_key).encode()) % 24
    at = utc(now).replace(hour=slot, minute=0, second=0, microsecond=0)
    return at if at > utc(now) else at + timedelta(days=1)


@dataclass(frozen=True)
class CheckEntry:
    """The row `ledger_key` is to be checked with a workspace GET at the hour `bucket` or later."""

    ledger_pk: str
    ledger_rk: str
    bucket: str

    @property
    def ledger_key(self) -> tuple[str, str]:
        return self.ledger_pk, self.ledger_rk

    @property
    def row_key(self) -> str:
        return f"{self.ledger_pk}|{self.ledger_rk}"


class ReconcileIndex:
    """Each soft-deleted row has one entry; a sweep reads the entries due (a daily share), never the whole ledger."""

    def __init__(self, table_client: TableClient) -> None:
        self._table = table_client
        self._held: HeldWrites | None = None  # while deferred (a sweep's reconciliation): written by flush()

    def defer(self) -> None:
        """Hold the writes until flush(): they go out as batch transactions, one per hour bucket."""
        self._held = HeldWrites(self._table)

    def flush(self) -> None:
        """Write the held entries, then drop the ones they replace (a crash in between leaves a duplicate check, never
        a row without one). Storage failures raise."""
        held, self._held = self._held, None
        if held is not None:
            held.flush()

    def due(self, now: datetime, limit: int) -> list[CheckEntry]:
        """At most `limit` entries filed in now's hour bucket or earlier (a PartitionKey range: an indexed read)."""
        if limit <= 0:
            return []
        entities = self._table.query_entities("PartitionKey ge @low and PartitionKey le @high",
                                              parameters={"low": LOW, "high": bucket(now)},
                                              results_per_page=min(limit, 1000))
        return [CheckEntry(e["LedgerPartitionKey"], e["LedgerRowKey"], e["PartitionKey"])
                for e in islice(entities, limit)]

    def file(self, ledger_key: tuple[str, str], at: datetime, *, previous: CheckEntry | None = None) -> CheckEntry:
        """(Re)file the row's check at `at`'s hour; drops the entry it replaces. Storage failures raise."""
        entry = CheckEntry(*ledger_key, bucket(at))
        if previous is None or previous.bucket != entry.bucket:
            entity = {"PartitionKey": entry.bucket, "RowKey": entry.row_key, "LedgerPartitionKey": entry.ledger_pk,
                      "LedgerRowKey": entry.ledger_rk, "DueAt": utc(at)}
            if self._held is not None:
                self._held.upserts.append(entity)
            else:
                self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
            if previous is not None:
                self.drop(previous)
        return entry

    def drop(self, entry: CheckEntry) -> None:
        if self._held is not None:
            self._held.deletes.append((entry.bucket, entry.row_key))
            return
        try:
            self._table.delete_entity(entry.bucket, entry.row_key)
        except ResourceNotFoundError:
            pass  # another sweep got there first

    def count(self) -> int:
        return sum(1 for _ in self._table.list_entities(select=["PartitionKey"]))
