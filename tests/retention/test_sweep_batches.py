"""The sweep's grouped Table requests (shared/azure/table_batch.py) against Azurite: nothing missed, nothing left."""

from __future__ import annotations

from shared.azure import tables
from shared.azure.table_batch import delete_many, read_many, upsert_many


def test_rows_are_read_together_across_partitions_whatever_their_names(table_service):
    table = tables.table(table_service, tables.RETENTION)
    keys = [(f"sub-{p}", f"rg|ws-{i:02d}") for p in range(2) for i in range(20)] + [("sub-0", "rg|o'brien ( x )")]
    upsert_many(table, [{"PartitionKey": pk, "RowKey": rk, "State": "SoftDeleted"} for pk, rk in keys])

    found = read_many(table, keys + [("sub-0", "rg|never-deleted"), ("sub-9", "rg|ws-00")])

    assert set(found) == set(keys)  # 41 rows in 2 partitions: more than one query each; the missing ones absent
    assert all(entity.metadata.get("etag") for entity in found.values())  # each can guard a later write


def test_a_batched_removal_that_meets_an_entry_already_gone_removes_the_rest(table_service):
    table = tables.table(table_service, tables.SCHEDULE)
    keys = [("2026120312", f"sub|rg|ws-{i}|3") for i in range(5)]
    upsert_many(table, [{"PartitionKey": pk, "RowKey": rk} for pk, rk in keys])
    table.delete_entity(*keys[2])  # another sweep got there first

    delete_many(table, keys)

    assert list(table.list_entities()) == []
