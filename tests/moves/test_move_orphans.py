"""A move whose orchestration is gone never wedges the workspace: the row ends from what ARM says (dev host)."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.conftest import SUB_DEV, rg_id, ws_id
from tests.moves.test_move_devhost import durable_final, poll_move

BODY = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}


def start_and_terminate(host: Any, sim: Any) -> str:
    """Start a move held in ARM's validation (it takes a minute), then terminate its orchestration by hand."""
    sim.control("POST", "settings", json={"validationSeconds": 60})
    answer = requests.post(f"{host.url}/api/moves", json=BODY, headers={"x-functions-key": host.key}, timeout=60)
    assert answer.status_code == 202, answer.text
    move_id = answer.json()["moveId"]
    instance = move_id[:21]
    deadline = time.monotonic() + 30
    while not [r for r in sim.control("GET", "requests").json() if r["path"].endswith("/validateMoveResources")]:
        assert time.monotonic() < deadline, "the validation never started"
        time.sleep(0.1)
    stop = requests.post(f"{host.url}/runtime/webhooks/durabletask/instances/{instance}/terminate",
                         params={"reason": "by hand", "code": host.durable_key}, timeout=10)
    assert stop.status_code == 202, stop.text
    assert durable_final(host, instance)["runtimeStatus"] == "Terminated"
    view = requests.get(f"{host.url}/api/moves/{move_id}", headers={"x-functions-key": host.key}, timeout=10).json()
    assert view["state"] == "Validating"  # the orchestration is gone, the row is not finished
    return move_id


def test_a_terminated_move_is_ended_from_arm_by_the_next_start_and_a_new_move_runs(fast_devhost: Any, sim: Any):
    host = fast_devhost
    old = start_and_terminate(host, sim)
    sim.control("POST", "settings", json={"validationSeconds": 0})
    again = requests.post(f"{host.url}/api/moves", json=BODY, headers={"x-functions-key": host.key}, timeout=60)
    assert again.status_code == 202, again.text  # not 409 MoveAlreadyRunning for good
    view = requests.get(f"{host.url}/api/moves/{old}", headers={"x-functions-key": host.key}, timeout=10).json()
    assert view["state"] == "Failed" and view["error"]["code"] == "OrchestrationGone", view
    steps = {s["name"]: s for s in view["steps"]}
    assert steps["orphaned"]["where"] == "source" and steps["validate"]["status"] == "incomplete"
    assert poll_move(host.url, host.key, again.json()["moveId"])["state"] == "Succeeded"


def test_cancel_clears_a_stuck_move_once_its_orchestration_is_gone_and_audits_it(fast_devhost: Any, sim: Any):
    host = fast_devhost
    move_id = start_and_terminate(host, sim)
    cancel = requests.post(f"{host.url}/api/moves/{move_id}/cancel", headers={"x-functions-key": host.key},
                           json={"reason": "orchestration terminated by hand", "requestedBy": "oncall@contoso"},
                           timeout=60)
    assert cancel.status_code == 200, cancel.text
    view = cancel.json()
    assert view["state"] == "Failed", view
    steps = {s["name"]: s for s in view["steps"]}
    # a function key names nobody: the key holder is recorded, the body's name only as a note
    assert steps["cancellation"]["canceledBy"] == {"via": "functionKey"}
    assert steps["cancellation"]["requestedByNote"] == "oncall@contoso" and steps["orphaned"]["where"] == "source"
    # The workspace's claim is released: a new move starts.
    sim.control("POST", "settings", json={"validationSeconds": 0})
    again = requests.post(f"{host.url}/api/moves", json=BODY, headers={"x-functions-key": host.key}, timeout=60)
    assert again.status_code == 202, again.text


def moving_without_orchestration() -> tuple[Any, Any, Any, Any]:
    """A move whose orchestration is gone after ARM's moveResources went out: (clients, plan, store, a function that
    waits until ARM's operation succeeded)."""
    from local.waiting import wait_until
    from shared.azure.clients import get_clients
    from shared.moves import claims, operations
    from shared.moves.launch import record_start
    from shared.moves.plan import instance_id_of
    from shared.moves.store import MovesStore
    from tests.moves.conftest import make_plan

    clients = get_clients()
    plan = make_plan("ws-twin", rg_id(SUB_DEV, "rg-ml-dev-2"))
    record_start(clients, plan)
    claims.acquire(clients, plan.partition, instance_id_of(plan.move_id), plan.move_id)
    started = operations.start_operation(clients.arm_pipeline(), operations.MOVE, plan.source, plan.target,
                                         list(plan.resources), arm_endpoint=clients.settings.arm_endpoint)
    store = MovesStore.of(clients)
    store.update(plan.partition, plan.move_id, lambda r: (setattr(r, "state", "Moving"),
                                                          setattr(r, "operation", started.location)))

    def arm_finished() -> None:
        wait_until(lambda: operations.poll_operation(clients.arm_pipeline(), started.location,
                                                     arm_endpoint=clients.settings.arm_endpoint).status == "succeeded",
                   "ARM's move", timeout=30, interval=0.1)

    return clients, plan, store, arm_finished


def test_an_orphaned_move_that_arm_finished_ends_needs_attention_at_the_target_and_frees_the_claim(move_env, sim):
    """The orchestration vanished after ARM's moveResources went out; ARM finished it. The row says it moved, what
    was not done, and the workspace's claim is free."""
    from datetime import timedelta

    from shared.moves import claims
    from shared.moves.orphans import converge, orchestration_gone
    from shared.moves.plan import instance_id_of

    clients, plan, store, arm_finished = moving_without_orchestration()
    arm_finished()
    record = store.get(plan.move_id, partition=plan.partition)
    later = record.updated_at + timedelta(minutes=5)
    assert orchestration_gone(record, None, now=later)  # no instance runs it, and it has not changed for minutes

    ended = converge(clients, record, by={"via": "entra", "name": "oncall@contoso"}, reason="instance purged")
    assert ended.state == "NeedsAttention" and ended.result["targetWorkspaceId"] == ws_id("ws-twin", rg="rg-ml-dev-2")
    assert ended.result["leftToDo"][0]["kind"] == "post-move-not-run"
    assert {s["name"]: s for s in ended.steps}["orphaned"]["where"] == "target"
    # The claim is free: a new move of this workspace's instance can be claimed.
    claims.acquire(clients, plan.partition, instance_id_of(plan.move_id), plan.move_id[:-4] + "999Z")


def test_an_orphaned_move_is_not_ended_while_arm_still_runs_its_move_and_is_once_arm_finished(move_env, sim):
    """The orchestration vanished while ARM's moveResources still runs: a cancel or a new start gets 409
    `MoveStillRunningAtArm` and the row stays as it is (ARM still holds both groups); once ARM ends the move, the
    same convergence ends the row at the target."""
    from shared.errors import ApiError
    from shared.moves.orphans import converge

    clients, plan, store, arm_finished = moving_without_orchestration()
    record = store.get(plan.move_id, partition=plan.partition)
    by = {"via": "entra", "name": "oncall@contoso"}

    try:
        converge(clients, record, by=by, reason="instance purged", cancel=True)
    except ApiError as refused:
        assert refused.status == 409 and refused.code == "MoveStillRunningAtArm", refused
        assert "try again after it ends" in refused.message
    else:
        raise AssertionError("a move ARM still runs was ended")
    kept = store.get(plan.move_id, partition=plan.partition)
    assert kept.state == "Moving" and not {s["name"] for s in kept.steps} & {"orphaned", "cancellation"}

    arm_finished()
    ended = converge(clients, store.get(plan.move_id, partition=plan.partition), by=by, reason="instance purged",
                     cancel=True)
    assert ended.state == "NeedsAttention" and {s["name"]: s for s in ended.steps}["orphaned"]["where"] == "target"
