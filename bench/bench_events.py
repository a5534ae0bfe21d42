"""Workspace events per second through the `workspace_events` function into Azurite, against a raw upsert loop."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUB = "11111111-1111-4111-8111-111111111111"
FIXTURE = ROOT / "tests" / "retention" / "fixtures" / "event_grid_delete_success.json"


def delete_event(name: str, at: datetime) -> dict:
    text = FIXTURE.read_text()
    values = {"subscription-id": SUB, "resource-group": "rg-bench", "workspace-name": name,
              "event-id": str(uuid.uuid4()), "event-time": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "purge-query": "",
              "correlation-id": str(uuid.uuid4()),
              "tenant-id": "aaaaaaaa-0000-4000-8000-000000000001", "user-name": "bench@contoso.com",
              "full-name": "Bench", "app-id": "app-bench"}
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def decode(body: dict):
    from azure.functions import meta
    from azure.functions.eventgrid import EventGridEventInConverter

    return EventGridEventInConverter.decode(meta.Datum(type="json", value=json.dumps(body)), trigger_metadata={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300, help="soft deletes of distinct workspaces")
    args = parser.parse_args()

    from local.azurite import start_azurite

    with tempfile.TemporaryDirectory() as tmp, start_azurite(tmp) as azurite:
        os.environ.update({
            "AML_LIFECYCLE_TABLES": azurite.connection_string,
            "AML_LIFECYCLE_ARM_ENDPOINT": "https://127.0.0.1:9",
            "AML_LIFECYCLE_LOCAL_TOKEN": "bench",
        })
        for name in ("AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT", "AML_LIFECYCLE_ALERTS_TOPIC_KEY"):
            os.environ.pop(name, None)  # alerts are logged only: the bench measures the ledger, not a topic
        from azure.data.tables import TableServiceClient

        import function_app

        functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
        handler = functions["workspace_events"].get_user_function()
        service = TableServiceClient.from_connection_string(azurite.connection_string)
        raw = service.create_table_if_not_exists("BenchRaw")

        now = datetime.now(timezone.utc) - timedelta(hours=1)
        events = [decode(delete_event(f"ws-{i:05d}", now + timedelta(milliseconds=i))) for i in range(args.events)]
        handler(decode(delete_event("ws-warmup", now)))  # table creation, client construction

        started = time.perf_counter()
        for i in range(args.events):
            raw.upsert_entity({"PartitionKey": SUB, "RowKey": f"rg-bench|ws-{i:05d}", "State": "SoftDeleted",
                               "DeletedAt": now, "WorkspaceId": f"/x/{i}"})
        raw_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for event in events:
            handler(event)
        handler_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for event in events:  # Event Grid redelivers: duplicates change nothing
            handler(event)
        duplicate_seconds = time.perf_counter() - started

    n = args.events
    print(f"raw upsert_entity loop:            {n / raw_seconds:8.1f} rows/s")
    print(f"workspace_events, soft deletes:    {n / handler_seconds:8.1f} events/s "
          f"(ledger row + 5 schedule entries + soft-delete alert claim/mark)")
    print(f"workspace_events, redeliveries:    {n / duplicate_seconds:8.1f} events/s")
    print(f"ratio raw / handler (soft deletes): {handler_seconds / raw_seconds:6.1f}x")
    print(f"ratio raw / handler (redeliveries): {duplicate_seconds / raw_seconds:6.1f}x")


if __name__ == "__main__":
    main()
