"""Table Storage requests grouped by partition: point reads as one filtered query per 14 rows, writes as batch
transactions of up to 100 operations (Table service REST: "Query Entities" allows at most 15 discrete comparisons
in a $filter; "Performing entity group transactions": one partition, at most 100 operations, all or nothing)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

READS_PER_QUERY = 14  # PartitionKey eq + 14 RowKey eq: the 15 comparisons a $filter may hold
OPERATIONS_PER_BATCH = 100


def read_many(table: TableClient, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """{(PartitionKey, RowKey): entity} for the keys that exist (each entity with its ETag in `metadata`)."""
    by_partition: dict[str, list[str]] = defaultdict(list)
    for pk, rk in dict.fromkeys(keys):
        by_partition[pk].append(rk)
    found: dict[tuple[str, str], Any] = {}
    for pk, row_keys in by_partition.items():
        for first in range(0, len(row_keys), READS_PER_QUERY):
            chunk = row_keys[first:first + READS_PER_QUERY]
            parameters = {"pk": pk, **{f"r{i}": rk for i, rk in enumerate(chunk)}}
            query = "PartitionKey eq @pk and ( " + " or ".join(f"RowKey eq @r{i}" for i in range(len(chunk))) + " )"
            for entity in table.query_entities(query, parameters=parameters):
                found[(entity["PartitionKey"], entity["RowKey"])] = entity
    return found


def upsert_many(table: TableClient, entities: Iterable[dict[str, Any]]) -> None:
    """Replace-upsert the entities, one batch transaction per partition and 100; storage failures raise."""
    unique = {(e["PartitionKey"], e["RowKey"]): e for e in entities}
    for chunk in _chunks(unique.values()):
        if len(chunk) == 1:
            table.upsert_entity(chunk[0], mode=UpdateMode.REPLACE)
            continue
        table.submit_transaction([("upsert", e, {"mode": UpdateMode.REPLACE}) for e in chunk])


def delete_many(table: TableClient, keys: Iterable[tuple[str, str]]) -> None:
    """Delete the entities (already gone is fine), one batch transaction per partition and 100 when all exist."""
    unique = [{"PartitionKey": pk, "RowKey": rk} for pk, rk in dict.fromkeys(keys)]
    for chunk in _chunks(unique):
        if len(chunk) > 1:
            try:
                table.submit_transaction([("delete", e) for e in chunk])
                continue
            except TableTransactionError:
                pass  # one is gone already (another sweep): the whole batch is refused; delete one by one
        for entity in chunk:
            try:
                table.delete_entity(entity["PartitionKey"], entity["RowKey"])
            except ResourceNotFoundError:
                pass


class HeldWrites:
    """Upserts and deletes held until `flush`, then written as batch transactions per partition: every upsert before
    any delete, as when written one by one (a crash in between leaves a duplicate entry, never a gap). Threads may
    add to `upserts` / `deletes` at once (list appends)."""

    def __init__(self, table: TableClient) -> None:
        self._table = table
        self.upserts: list[dict[str, Any]] = []
        self.deletes: list[tuple[str, str]] = []

    def flush(self) -> None:
        """Writes what is held; storage failures raise."""
        upsert_many(self._table, self.upserts)
        delete_many(self._table, self.deletes)


def _chunks(entities: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    by_partition: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entity in entities:
        by_partition[entity["PartitionKey"]].append(entity)
    return [group[i:i + OPERATIONS_PER_BATCH] for group in by_partition.values()
            for i in range(0, len(group), OPERATIONS_PER_BATCH)]
