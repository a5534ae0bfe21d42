"""The move's verdict comes from where ARM says the workspace is, not from a run of 5xx on the operation URL."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.move_orchestration import ACTIVITIES
from shared.azure.clients import get_clients
from shared.moves.launch import record_start
from shared.moves.plan import instance_id_of
from shared.moves.store import MovesStore
from tests.conftest import SUB_DEV, TOPIC, rg_id, ws_id
from tests.moves.busy_workspace import CLUSTER, ENDPOINT, make_busy
from tests.moves.conftest import make_plan
from tests.moves.durable_driver import Driver, real_activities

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
SOURCE, TARGET = ws_id("ws-twin"), ws_id("ws-twin", rg="rg-ml-dev-2")


def workload_at(sim, workspace_id: str) -> set[str]:
    prefix = workspace_id.lower() + "/"
    return {r["id"].lower()[len(prefix):] for r in sim.control("GET", "state").json()["resources"]
            if r["id"].lower().startswith(prefix) and ("/computes/" in r["id"].lower()
                                                        or "/onlineendpoints/" in r["id"].lower())}


def move_with_503s_after_the_post(functions, sim, plan, count: int) -> Any:
    """ARM runs the move on its own (no poll needed) while its operation URL answers 503 `count` times."""
    sim.control("POST", "settings", json={"unpolledOperationSeconds": 0})
    record_start(get_clients(), plan)
    table = real_activities(functions, ACTIVITIES)
    start = table["move_start"]

    def start_then_503s(payload: Any) -> Any:
        answer = start(payload)
        sim.control("POST", "faults", json={"path": "/operationresults/", "method": "GET", "kind": "error",
                                            "status": 503, "count": count})
        return answer

    table["move_start"] = start_then_503s
    handle = functions["move_orchestrator"].get_user_function()
    return Driver(handle, table, instance_id=instance_id_of(plan.move_id)).run("move_orchestrator", plan.to_json())


@pytest.mark.parametrize("count", [3, 10])
def test_503s_while_arm_finishes_a_quiesced_move_end_with_the_workload_at_the_target(functions, move_env, sim,
                                                                                    count):
    make_busy(SOURCE)
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = move_with_503s_after_the_post(functions, sim, plan, count)
    record = MovesStore.of(get_clients()).get(plan.move_id)
    assert run.error is None and record.state in ("Succeeded", "NeedsAttention"), (record.state, record.error)
    assert record.error is None and record.result["targetWorkspaceId"] == TARGET
    steps = {s["name"]: s for s in record.steps}
    assert steps["whereabouts"]["where"] == "target" and "compensate" not in steps
    assert steps["restore"]["status"] == "succeeded" and "datastores" in steps and "role-assignments" in steps
    assert workload_at(sim, SOURCE) == set()
    there = workload_at(sim, TARGET)
    assert f"computes/{CLUSTER}" in there and f"onlineendpoints/{ENDPOINT}" in there
    events = [e["event"]["type"] for e in sim.control("GET", f"topics/{TOPIC}/events").json()]
    assert "AmlLifecycle.Move.Failed" not in events and len(events) == 1


def test_503s_then_arm_failing_the_move_end_failed_with_the_workload_back_at_the_source(functions, move_env, sim):
    make_busy(SOURCE)
    sim.control("POST", "moves/fail", json={"code": "ResourceMoveFailed"})
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = move_with_503s_after_the_post(functions, sim, plan, 3)
    record = MovesStore.of(get_clients()).get(plan.move_id)
    assert run.error is None and record.state == "Failed", record.state
    assert record.error["code"] == "ResourceMoveFailed" and record.result["targetWorkspaceId"] is None
    steps = {s["name"]: s for s in record.steps}
    assert steps["whereabouts"]["where"] == "source" and steps["compensate"]["status"] == "succeeded"
    there = workload_at(sim, SOURCE)
    assert f"computes/{CLUSTER}" in there and f"onlineendpoints/{ENDPOINT}" in there
    assert workload_at(sim, TARGET) == set()
