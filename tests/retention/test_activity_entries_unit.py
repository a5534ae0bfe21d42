"""Activity Log entries (EventData, 2015-04-01) to workspace deletes: one per operation, succeeded, not a 204."""

from __future__ import annotations

from shared.retention.activity import deletes_in
from tests.conftest import ws_id

DELETE = "Microsoft.MachineLearningServices/workspaces/delete"


def entry(op: str, status: str, at: str, *, sub_status: str = "", uri: str = "", name: str = DELETE,
          resource: str | None = None, caller: str = "alice@contoso.com") -> dict:
    return {"operationId": op, "correlationId": f"c-{op}", "eventDataId": f"{op}-{status}", "caller": caller,
            "operationName": {"value": name}, "status": {"value": status}, "subStatus": {"value": sub_status},
            "eventTimestamp": at, "resourceId": resource or ws_id("ws-quiet"),
            "httpRequest": {"method": "DELETE", "uri": uri}}


def test_one_delete_per_operation_with_its_facts():
    entries = [entry("op1", "Succeeded", "2026-12-01T10:00:05.1234567Z", sub_status="OK"),
               entry("op1", "Accepted", "2026-12-01T10:00:01Z", sub_status="Accepted"),
               entry("op1", "Started", "2026-12-01T10:00:00Z", uri="https://x/ws?api-version=2025-09-01")]
    [delete] = deletes_in(entries)
    assert delete.event_time.isoformat() == "2026-12-01T10:00:05.123456+00:00" and delete.caller == "alice@contoso.com"
    assert delete.correlation_id == "c-op1" and not delete.force_to_purge and delete.source == "activityLog"
    assert delete.event_id == "activitylog:op1-Succeeded"


def test_a_purge_is_read_from_any_entry_of_the_operation():
    entries = [entry("op2", "Started", "2026-12-01T10:00:00Z", uri="https://x/ws?api-version=1&forceToPurge=true"),
               entry("op2", "Succeeded", "2026-12-01T10:00:02Z", sub_status="OK")]
    assert deletes_in(entries)[0].force_to_purge


def test_failures_204s_other_operations_and_bad_entries_are_not_deletes():
    entries = [entry("f", "Started", "2026-12-01T10:00:00Z"), entry("f", "Failed", "2026-12-01T10:00:01Z",
                                                                     sub_status="Conflict"),
               entry("n", "Succeeded", "2026-12-01T10:00:01Z", sub_status="NoContent"),
               entry("w", "Succeeded", "2026-12-01T10:00:01Z", name="Microsoft.MachineLearningServices/workspaces/write"),
               entry("r", "Succeeded", "2026-12-01T10:00:01Z", resource="/subscriptions/x/resourceGroups/y"),
               entry("t", "Succeeded", "9999-12-01T10:00:01Z"), entry("u", "Succeeded", "not a time"),
               entry("", "Started", "2026-12-01T10:00:00Z") | {"correlationId": None, "eventDataId": None}]
    assert deletes_in(entries) == []
