"""`POST /api/moves` and `GET /api/moves/{moveId}` through their real entry points; the Durable client is a fake
that records what the starter asks of it (the orchestration itself is then run by the test driver)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.functions as func
import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from shared.azure.arm_ids import parse_workspace_id
from shared.azure.clients import get_clients
from shared.moves.plan import instance_id_for, is_move_id
from shared.moves.store import MovesStore
from tests.conftest import SUB_DEV, call_http, rg_id, ws_id
from tests.moves.conftest import ACTIVITIES
from tests.moves.durable_driver import Driver, real_activities

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
SYSTEM_KEY = "c3lzdGVtLWtleS1zZWNyZXQ"


class FakeDurableClient:
    """Answers get_status with a given status and records start_new calls."""

    def __init__(self, status: dict | None = None, start_error: Exception | None = None) -> None:
        self.status = DurableOrchestrationStatus.from_json(status) if status else DurableOrchestrationStatus()
        self.start_error = start_error
        self.started: list[tuple[str, str, Any]] = []
        self.terminated: list[tuple[str, str]] = []

    async def get_status(
        self, instance_id: str, show_history: bool = False, show_history_output: bool = False, show_input: bool = False
    ) -> DurableOrchestrationStatus:
        return self.status

    async def start_new(self, name: str, instance_id: str | None = None, client_input: Any = None) -> str:
        if self.start_error:
            raise self.start_error
        self.started.append((name, instance_id, client_input))
        return instance_id

    async def terminate(self, instance_id: str, reason: str) -> None:
        self.terminated.append((instance_id, reason))

    def create_http_management_payload(self, instance_id: str) -> dict[str, str]:  # what the starter must not use
        base = f"http://localhost/runtime/webhooks/durabletask/instances/{instance_id}"
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{base}?code={SYSTEM_KEY}",
            "terminatePostUri": f"{base}/terminate?reason={{text}}&code={SYSTEM_KEY}",
        }


def start(functions: dict, body: Any, client: FakeDurableClient) -> tuple[int, dict]:
    request = func.HttpRequest(
        "POST",
        "http://localhost:7071/api/moves",
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
    )
    response = asyncio.run(functions["moves_start"].get_user_function().client_function(request, client=client))
    return response.status_code, json.loads(response.get_body())


def status(functions: dict, move_id: str) -> tuple[int, dict]:
    response = call_http(functions, "move_status", route_params={"moveId": move_id})
    return response.status_code, json.loads(response.get_body())


def rows() -> list:
    """WorkspaceMoves rows of moves (the start claims left out)."""
    from shared.azure import tables

    entities = tables.table(get_clients().tables(), tables.MOVES).list_entities()
    return [e for e in entities if not e["RowKey"].startswith("claim-")]


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2, "recreateRoleAssignments": "yes"},
            "recreateRoleAssignments",
        ),
        (
            {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2, "approvePrivateEndpoints": "all"},
            "approvePrivateEndpoints",
        ),
        ({"workspaceId": "/subscriptions/x", "targetResourceGroupId": DEV2}, "workspaceId"),
        ({"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2, "surprise": 1}, "surprise"),
        (  # a ride-along workspace would move unchecked, unclaimed and unfollowed: refused
            {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2,
             "includeResources": [ws_id("ws-quiet")]},
            "includeResources[0]",
        ),
    ],
)
def test_bad_body_is_400_naming_the_field_and_starts_nothing(move_env, functions, body, field):
    client = FakeDurableClient()
    code, answer = start(functions, body, client)
    assert code == 400 and answer["error"]["target"] == field
    assert client.started == [] and rows() == []


def test_target_outside_the_allow_list_is_403(move_env, functions):
    client = FakeDurableClient()
    code, answer = start(
        functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-other")}, client
    )
    assert code == 403 and answer["error"]["target"] == "targetResourceGroupId"
    assert client.started == []


def test_second_start_while_one_runs_is_409_with_the_running_move(move_env, functions, sim_requests):
    running_id = instance_id_for(parse_workspace_id(ws_id("ws-twin"))) + "-20300101T080000000Z"
    client = FakeDurableClient(
        {
            "name": "move_orchestrator",
            "instanceId": running_id[:21],
            "runtimeStatus": "Running",
            "createdTime": "2030-01-01T08:00:00Z",
            "input": {"moveId": running_id},
        }
    )
    code, answer = start(functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}, client)
    assert code == 409
    assert answer["moveId"] == running_id and answer["statusUrl"].endswith(f"/api/moves/{running_id}")
    assert answer["error"]["code"] == "MoveAlreadyRunning"
    assert client.started == [] and rows() == []
    assert [r for r in sim_requests() if not r["path"].startswith("/_sim/")] == []  # refused before any ARM call


def test_preflight_failure_is_422_with_the_report(move_env, functions):
    client = FakeDurableClient()
    code, answer = start(functions, {"workspaceId": ws_id("ws-computes"), "targetResourceGroupId": DEV2}, client)
    assert code == 422 and answer["ready"] is False and answer["error"]["code"] == "PreflightFailed"
    failed = [c["id"] for c in answer["checks"] if c["status"] == "failed"]
    assert "workspace.no-computes" in failed and "workspace.no-computes" in answer["error"]["message"]
    assert client.started == [] and rows() == []


def test_start_is_202_then_status_follows_the_move_to_its_end(move_env, functions):
    client = FakeDurableClient(
        {
            "name": "move_orchestrator",
            "instanceId": "x",
            "runtimeStatus": "Completed",
            "createdTime": "2030-01-01T08:00:00Z",
            "input": {"moveId": "old"},
        }
    )
    code, answer = start(functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}, client)
    assert code == 202, answer
    move_id, instance_id = answer["moveId"], instance_id_for(parse_workspace_id(ws_id("ws-twin")))
    assert is_move_id(move_id) and move_id.startswith(instance_id)
    assert answer == {"moveId": move_id, "statusUrl": f"http://localhost:7071/api/moves/{move_id}", "state": "Validating"}
    assert SYSTEM_KEY not in json.dumps(answer)  # no Durable management URL: they carry the system key
    ((name, started_id, plan),) = client.started
    assert (name, started_id, plan["moveId"]) == ("move_orchestrator", instance_id, move_id)

    code, view = status(functions, move_id)
    assert code == 200 and view["state"] == "Validating" and [s["name"] for s in view["steps"]] == ["preflight"]
    (row,) = rows()
    assert SYSTEM_KEY not in json.dumps(dict(row), default=str)  # management URLs carry a key: never stored

    run = Driver(
        functions["move_orchestrator"].get_user_function(),
        real_activities(functions, ACTIVITIES),
        instance_id=instance_id,
    ).run("move_orchestrator", plan)
    assert run.output["state"] == "Succeeded"
    code, view = status(functions, move_id)
    assert code == 200 and view["state"] == "Succeeded" and view["finishedAt"] and view["error"] is None
    assert view["targetWorkspaceId"] == ws_id("ws-twin", rg="rg-ml-dev-2")
    assert [s["name"] for s in view["steps"]][:4] == ["preflight", "snapshot", "validate", "move"]
    assert all(s["startedAt"] for s in view["steps"]) and view["leftToDo"] == []


def test_orchestration_that_cannot_start_is_recorded_and_refused(move_env, functions):
    client = FakeDurableClient(
        start_error=Exception("An Orchestration instance with the status Running already exists.")
    )
    code, answer = start(functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}, client)
    assert code == 409 and answer["error"]["code"] == "MoveAlreadyRunning"
    assert rows() == []  # answered 409: no Failed row for it


def test_an_orchestration_that_fails_to_start_for_another_reason_is_recorded_failed(move_env, functions):
    client = FakeDurableClient(start_error=Exception("the task hub is not reachable"))
    code, answer = start(functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}, client)
    assert code == 503
    (row,) = rows()
    assert row["State"] == "Failed" and "NotStarted" in row["Error"]


class SharedHubClient(FakeDurableClient):
    """One task hub seen by many concurrent starters: start_new succeeds once, then the instance is Running."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.lock = threading.Lock()

    async def get_status(self, instance_id: str, **_: Any) -> DurableOrchestrationStatus:
        with self.lock:
            if not self.started:
                return DurableOrchestrationStatus()
            _, started_id, plan = self.started[0]
        return DurableOrchestrationStatus.from_json(
            {"name": "move_orchestrator", "instanceId": started_id, "runtimeStatus": "Running", "input": plan}
        )

    async def start_new(self, name: str, instance_id: str | None = None, client_input: Any = None) -> str:
        with self.lock:
            if self.started:
                raise Exception(f"An Orchestration instance with the status Running already exists: {instance_id}")
            self.started.append((name, instance_id, client_input))
        return instance_id


def test_twenty_parallel_starts_make_one_move_and_nineteen_409s(move_env, functions, sim_requests):
    import concurrent.futures

    client = SharedHubClient()
    body = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: start(functions, body, client), range(20)))
    accepted = [a for code, a in answers if code == 202]
    refused = [a for code, a in answers if code == 409]
    assert len(accepted) == 1 and len(refused) == 19, [code for code, _ in answers]
    move_id = accepted[0]["moveId"]
    for answer in refused:
        assert answer["moveId"] == move_id and answer["statusUrl"].endswith(f"/api/moves/{move_id}")
    (row,) = rows()
    assert row["RowKey"] == move_id and row["State"] == "Validating"  # no Failed row for any 409
    workspace_reads = [r for r in sim_requests() if r["method"] == "GET" and r["path"].lower() == ws_id("ws-twin").lower()]
    assert len(workspace_reads) == 1  # one preflight: the losers stopped at the claim


@pytest.mark.parametrize("move_id", ["move-0000000000000000-20300101T080000000Z", "nope", "move-../../x"])
def test_unknown_move_is_404_in_the_contract_shape(move_env, functions, move_id):
    code, answer = status(functions, move_id)
    assert code == 404 and answer["error"]["code"] == "MoveNotFound" and answer["error"]["target"] == "moveId"


def test_a_finished_move_keeps_its_row_when_the_workspace_moves_again(move_env, functions):
    store = MovesStore.of(get_clients())
    first_client = FakeDurableClient()
    code, first = start(functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}, first_client)
    assert code == 202
    store.update(SUB_DEV, first["moveId"], lambda r: setattr(r, "state", "Failed"))
    code, second = start(
        functions,
        {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2},
        FakeDurableClient(
            {
                "name": "move_orchestrator",
                "instanceId": "x",
                "runtimeStatus": "Failed",
                "createdTime": "2030-01-01T08:00:00Z",
            }
        ),
    )
    assert code == 202 and second["moveId"] != first["moveId"]
    assert second["moveId"][:21] == first["moveId"][:21]  # the same per-workspace instance id
    assert {r["RowKey"] for r in rows()} == {first["moveId"], second["moveId"]}


def test_the_orchestration_reuses_the_starters_fresh_preflight_reads(move_env, functions, sim_requests, sim):
    client = FakeDurableClient()
    code, answer = start(functions, {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": DEV2}, client)
    assert code == 202, answer
    starter_calls = [r for r in sim_requests() if not r["path"].startswith("/_sim/")]
    assert not any(r["path"].endswith("/validateMoveResources") for r in starter_calls)  # never waits on ARM
    sim.control("DELETE", "requests")
    ((_, instance_id, plan),) = client.started
    run = Driver(
        functions["move_orchestrator"].get_user_function(), real_activities(functions, ACTIVITIES),
        instance_id=instance_id,
    ).run("move_orchestrator", plan)
    assert run.output["state"] == "Succeeded"
    code, view = status(functions, answer["moveId"])
    snapshot_step = next(s for s in view["steps"] if s["name"] == "snapshot")
    assert snapshot_step["reused"] == "preflight"
    before_move = []
    for r in sim_requests():
        if r["path"].endswith("/moveResources"):
            break
        before_move.append(r)
    assert not any("privateEndpointConnections" in r["path"] or "roleAssignments" in r["path"] for r in before_move)
