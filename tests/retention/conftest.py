"""Fixtures of the retention tests: Azurite-only table clients, the ledger, and event builders."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from local.waiting import wait_until
from tests.conftest import SUB_DEV, SUB_PROD, TENANT


@pytest.fixture
def table_service(azurite: Any) -> Iterator[Any]:
    """A TableServiceClient on Azurite with the app's tables emptied (no simulator needed)."""
    from azure.data.tables import TableServiceClient

    from tests.conftest import _clear_tables

    _clear_tables(azurite.connection_string)
    yield TableServiceClient.from_connection_string(azurite.connection_string)


@pytest.fixture
def ledger(table_service: Any):
    from shared.azure import tables
    from shared.retention.ledger import RetentionLedger

    return RetentionLedger(tables.table(table_service, tables.RETENTION))


FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def recent() -> datetime:
    """An event time within the retention window, for handlers that run on the wall clock (an old delete is Expired)."""
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)


def event_body(kind: str, name: str, *, at: datetime, event_id: str | None = None, schema: str = "eventgrid",
               sub: str = SUB_DEV, rg: str = "rg-ml-dev", purge: bool = False, upn: str | None = "alice@contoso.com",
               correlation: str = "corr-1") -> dict:
    """A published-sample-shaped event (`kind` delete/write, `schema` eventgrid/cloudevents) for one workspace."""
    prefix = "event_grid" if schema == "eventgrid" else "cloud_event"
    text = (FIXTURES / f"{prefix}_{kind}_success.json").read_text()
    stamp = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"  # 7 digits, as ARM writes them
    values = {"subscription-id": sub, "resource-group": rg, "workspace-name": name,
              "event-id": event_id or str(uuid.uuid4()),
              "event-time": stamp, "purge-query": "&forceToPurge=true" if purge else "", "correlation-id": correlation,
              "tenant-id": TENANT, "user-name": upn or "", "full-name": "Alice Example", "app-id": "app-0001"}
    for placeholder, value in values.items():
        text = text.replace("{" + placeholder + "}", value)
    body = json.loads(text)
    if upn is None:
        claims = body["data"]["claims"]
        for claim in ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"):
            claims.pop(claim, None)
    return body


def delivered(body: dict) -> str:
    """What the Python worker hands `workspace_events` (a `str` parameter: the generic binding) for this event: its
    JSON text."""
    return json.dumps(body)


@pytest.fixture
def events_env(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """App settings against Azurite only: no ARM (reads fail fast), no alerts topic (alerts only logged)."""
    from shared.azure.clients import reset_clients
    from tests.conftest import _clear_tables

    env = {
        "AML_LIFECYCLE_TABLES": azurite.connection_string,
        "AML_LIFECYCLE_ARM_ENDPOINT": "https://127.0.0.1:9",  # nothing listens: ARM reads fail at once
        "AML_LIFECYCLE_LOCAL_TOKEN": "unit-test-token",
        "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": f"{SUB_DEV},{SUB_PROD}",  # events of other subscriptions are refused
    }
    for name in ("AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT", "AML_LIFECYCLE_ALERTS_TOPIC_KEY",
                 "AML_LIFECYCLE_DIGEST_HOUR_UTC", "AML_LIFECYCLE_ALERT_DAYS", "AML_LIFECYCLE_DEFAULT_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from shared.azure import clients as azure_clients

    monkeypatch.setitem(azure_clients.RETRY_KWARGS, "retry_total", 0)  # the refused ARM read fails at once
    _clear_tables(azurite.connection_string)
    reset_clients()
    yield env
    reset_clients()


def ledger_rows(connection_string: str) -> dict[tuple[str, str], dict]:
    """Every ledger row as a plain dict (contract properties only), keyed by (PartitionKey, RowKey)."""
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    client = TableServiceClient.from_connection_string(connection_string).get_table_client(tables.RETENTION)
    return {(e["PartitionKey"], e["RowKey"]): e for e in client.list_entities()}


@pytest.fixture
def topic_env(app_env: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """app_env (Azurite + simulator + its alerts topic) with one publish attempt per alert (faults show at once)."""
    from shared.azure import clients as azure_clients

    monkeypatch.setitem(azure_clients.RETRY_KWARGS, "retry_total", 0)
    azure_clients.reset_clients()
    return app_env


def topic_events(sim: Any) -> list[dict]:
    """CloudEvents the app published to the simulator's alerts topic, oldest first."""
    return [item["event"] for item in sim.control("GET", "topics/alerts/events").json()]


def soft_delete(name: str, at: datetime, **extra: Any):
    """Apply a soft-delete event at `at` through the event service (its clock set to the event time). Against the
    simulator the workspace is soft-deleted there too, so the sweep's ARM check agrees with the event."""
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    if get_settings().arm_ca_bundle:  # the simulator (events_env has no ARM at all)
        arm_soft_delete(name, sub=extra.get("sub", SUB_DEV), rg=extra.get("rg", "rg-ml-dev"))
    event = delivered(event_body("delete", name, at=at, **extra))
    return RetentionEvents(get_clients(), get_settings()).handle(event, now=at)


def arm_soft_delete(name: str, *, sub: str = SUB_DEV, rg: str = "rg-ml-dev") -> None:
    """DELETE the workspace through the SDK (the simulator soft-deletes it); nothing if it is not live."""
    from azure.core.exceptions import ResourceNotFoundError

    from shared.azure.clients import get_clients

    workspace = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
    try:
        get_clients().resources(sub).resources.begin_delete_by_id(workspace, api_version="2025-09-01",
                                                                 polling_interval=0.05).result()
    except ResourceNotFoundError:
        pass


def sweep(at: datetime):
    from shared.azure.clients import get_clients
    from shared.retention.sweep import RetentionSweep
    from shared.settings import get_settings

    return RetentionSweep(get_clients(), get_settings()).run(at)


@pytest.fixture
def webhook(functions: dict) -> Iterator[Any]:
    """A loopback Event Grid webhook: answers the handshakes, hands each event to the real `workspace_events`
    function, and answers 200 (500 if the function raised, so the sender redelivers)."""
    import http.server
    import threading

    handler_fn = functions["workspace_events"].get_user_function()
    received: list[dict] = []
    failures: list[str] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_OPTIONS(self) -> None:  # CloudEvents abuse-protection handshake
            self.send_response(200)
            self.send_header("WebHook-Allowed-Origin", self.headers.get("WebHook-Request-Origin", "*"))
            self.end_headers()

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            events = body if isinstance(body, list) else [body]
            if self.headers.get("aeg-event-type") == "SubscriptionValidation":
                return self._answer(200, {"validationResponse": events[0]["data"]["validationCode"]})
            status = 200
            for event in events:
                received.append(event)
                try:
                    handler_fn(delivered(event))
                except Exception as exc:  # the host answers non-2xx: Event Grid retries the delivery
                    failures.append(repr(exc))
                    status = 500
            self._answer(status, None)

        def _answer(self, status: int, body: Any) -> None:
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/runtime/webhooks/EventGrid"
    server.received, server.failures = received, failures
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def wait_for(predicate: Any, *, timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until `predicate()` returns something truthy, or fail after `timeout` seconds."""
    return wait_until(predicate, what, timeout=timeout)
