"""Fixtures of the preflight tests: calling the validate route, reading its checks, ledger rows, fast retries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from tests.conftest import SUB_PROD, rg_id, ws_id

PROD = rg_id(SUB_PROD, "rg-ml-prod")


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in self.body["checks"]}

    def check(self, check_id: str) -> dict[str, Any]:
        return self.checks[check_id]

    def status_of(self, check_id: str) -> str:
        return self.checks[check_id]["status"]


class RecordingDurableClient:
    """The Durable client the validate route gets: records the validation orchestrations it starts."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str, Any]] = []

    async def start_new(self, name: str, instance_id: str | None = None, client_input: Any = None) -> str:
        self.started.append((name, instance_id, client_input))
        return instance_id


@pytest.fixture
def durable_client() -> RecordingDurableClient:
    return RecordingDurableClient()


@pytest.fixture
def validate(app_env: dict[str, str], functions: dict[str, Any], durable_client: Any) -> Callable[..., Answer]:
    """POST /api/moves/validate through the function's entry point; `workspace` is a seeded name or an id."""

    def call(workspace: str = "ws-quiet", target: str = PROD, *, raw: Any = None, **fields: Any) -> Answer:
        body = (
            raw
            if raw is not None
            else {
                "workspaceId": workspace if workspace.startswith("/") else ws_id(workspace),
                "targetResourceGroupId": target,
                **fields,
            }
        )
        import asyncio

        import azure.functions as func

        request = func.HttpRequest("POST", "http://localhost:7071/api/moves/validate",
                                   headers={"content-type": "application/json"},
                                   body=body if isinstance(body, bytes) else json.dumps(body).encode())
        handler = functions["moves_validate"].get_user_function().client_function
        response = asyncio.run(handler(request, client=durable_client))
        return Answer(response.status_code, json.loads(response.get_body() or b"{}"))

    return call


@pytest.fixture
def arm_calls(sim: Any) -> Callable[[], list[dict[str, Any]]]:
    """The ARM requests the simulator received (its own control and topic calls left out)."""

    def calls() -> list[dict[str, Any]]:
        return [r for r in sim.control("GET", "requests").json() if not r["path"].startswith("/_sim/")]

    return calls


@pytest.fixture
def fault(sim: Any) -> Callable[..., None]:
    def add(path: str, kind: str = "error", **spec: Any) -> None:
        sim.control("POST", "faults", json={"path": path, "kind": kind, **spec})

    return add


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter exponential backoff so persistent faults exhaust the (unchanged) retry count quickly."""
    from shared.azure import clients as azure_clients

    monkeypatch.setitem(azure_clients.RETRY_KWARGS, "retry_backoff_factor", 0.01)
    monkeypatch.setitem(azure_clients.RETRY_KWARGS, "retry_backoff_max", 0.05)


@pytest.fixture
def ledger_row(app_env: dict[str, str]) -> Callable[..., None]:
    """Write a WorkspaceRetention row (docs/tables.md) as the event handler would."""
    from azure.data.tables import TableServiceClient

    from shared.azure import tables
    from shared.retention.ledger import LedgerRow, LedgerState

    def write(sub: str, group: str, name: str, *, state: str = "SoftDeleted", purge_in_days: float = 10) -> None:
        now = datetime.now(timezone.utc)
        row = LedgerRow(
            subscription_id=sub,
            resource_group=group,
            workspace_name=name,
            workspace_id=ws_id(name, sub, group),
            state=LedgerState(state),
            deleted_at=now - timedelta(days=4),
            purge_after=now + timedelta(days=purge_in_days),
            retention_days=14,
        )
        service = TableServiceClient.from_connection_string(app_env["AML_LIFECYCLE_TABLES"])
        tables.table(service, tables.RETENTION).upsert_entity(row.to_entity())

    return write


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator answers Retry-After: 0, which azure-core reads as 'use the client's 5 s interval'."""
    from shared.moves.preflight import validation as move_validation

    monkeypatch.setattr(move_validation, "ARM_POLL_SECONDS", 0.05)


@pytest.fixture
def arm_post(app_env: dict[str, str]) -> Callable[[str], Any]:
    """POST an ARM action (e.g. a provider's unregister) through the app's own pipeline."""
    from azure.core.rest import HttpRequest

    from shared.azure.clients import get_clients

    def post(path: str) -> Any:
        pipeline = get_clients().arm_pipeline()
        request = HttpRequest("POST", pipeline.format_url(path), params={"api-version": "2025-04-01"})
        response = pipeline.send_request(request)
        assert response.status_code == 200, response.text()
        return response.json()

    return post
