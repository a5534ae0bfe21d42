"""Moves with "quiesce": true: the real activities against the simulator (virtual time), end to end on the row."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from shared.azure.clients import get_clients
from shared.moves.report import status_view
from shared.moves.store import MovesStore
from tests.conftest import SUB_DEV, rg_id, ws_id
from tests.moves.busy_workspace import CLUSTER, CLUSTER_PASSWORD, ENDPOINT, INSTANCE, OWNER, SPLIT, make_busy
from tests.moves.conftest import make_plan

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
SOURCE = ws_id("ws-twin")
TARGET = ws_id("ws-twin", rg="rg-ml-dev-2")


def resources(sim) -> dict[str, dict]:
    return {r["id"].lower(): r for r in sim.control("GET", "state").json()["resources"]}


def workload_at(sim, workspace_id: str) -> dict[str, dict]:
    prefix = workspace_id.lower() + "/"
    return {rid[len(prefix):]: body for rid, body in resources(sim).items()
            if rid.startswith(prefix) and ("/computes/" in rid or "/onlineendpoints/" in rid)}


def row(plan) -> Any:
    return MovesStore.of(get_clients()).get(plan.move_id)


@pytest.mark.parametrize("creates", ["async", "sync"])  # the spec allows a 201 Creating or one already Succeeded
def test_busy_workspace_quiesced_moved_and_restored_whole(run_move, sim, creates):
    make_busy(SOURCE)
    sim.control("POST", "ml/creations", json={"mode": creates})
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = run_move(plan)
    assert run.error is None and run.output["state"] == "Succeeded", run.output
    assert workload_at(sim, SOURCE) == {}
    there = workload_at(sim, TARGET)
    record = row(plan)
    view = status_view(record)
    new_name = view["renamedComputes"][INSTANCE]
    assert new_name != INSTANCE and new_name.startswith(INSTANCE)
    assert sorted(there) == sorted([
        f"computes/{new_name}", f"computes/{CLUSTER}", f"onlineendpoints/{ENDPOINT}",
        f"onlineendpoints/{ENDPOINT}/deployments/blue", f"onlineendpoints/{ENDPOINT}/deployments/green"])
    assert all(b["properties"]["provisioningState"] == "Succeeded" for b in there.values())
    assert there[f"onlineendpoints/{ENDPOINT}"]["properties"]["traffic"] == SPLIT
    instance = there[f"computes/{new_name}"]["properties"]["properties"]
    assert instance["personalComputeInstanceSettings"]["assignedUser"] == OWNER
    assert instance["idleTimeBeforeShutdown"] == "PT30M"
    assert instance["schedules"]["computeStartStop"][0]["cron"]["expression"] == "0 19 * * *"
    assert instance["setupScripts"]["scripts"]["creationScript"]["scriptData"] == "setup/install.sh"
    cluster = there[f"computes/{CLUSTER}"]
    assert cluster["properties"]["properties"]["scaleSettings"]["maxNodeCount"] == 6
    assert cluster["properties"]["properties"]["subnet"]["id"].endswith("/subnets/training")
    assert cluster["identity"]["type"] == "SystemAssigned"
    assert "adminUserPassword" not in cluster["properties"]["properties"]["userAccountCredentials"]
    blue = there[f"onlineendpoints/{ENDPOINT}/deployments/blue"]["properties"]
    assert blue["model"] == f"{TARGET}/models/model-blue/versions/1"  # the workspace's assets moved with it
    assert view["leftToDo"] == [] and view["state"] == "Succeeded"
    assert {(i["kind"], i["name"]): i["state"] for i in view["workload"]} == {
        ("compute", INSTANCE): "restored", ("compute", CLUSTER): "restored", ("endpoint", ENDPOINT): "restored",
        ("deployment", "blue"): "restored", ("deployment", "green"): "restored", ("traffic", ENDPOINT): "restored"}
    names = [s["name"] for s in record.steps]
    assert names.index("quiesce") < names.index("validate") < names.index("move") < names.index("restore") \
        < names.index("private-endpoints")
    stored = json.dumps([record.snapshot, record.result, record.steps, view])
    assert CLUSTER_PASSWORD not in stored  # the secret is dropped from the snapshot, never re-sent
    assert "userAccountCredentials.adminUserPassword" in stored  # ...and named, so a person knows it is gone


def test_move_refused_after_quiesce_puts_everything_back_at_the_source(run_move, sim):
    make_busy(SOURCE)
    sim.control("POST", "moves/fail", json={"count": 1})
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = run_move(plan)
    assert run.output["state"] == "Failed", run.output
    record = row(plan)
    assert record.error["phase"] == "move" and record.error["reasons"], record.error
    assert workload_at(sim, TARGET) == {} and resources(sim).get(TARGET.lower()) is None
    back = workload_at(sim, SOURCE)
    assert sorted(back) == sorted([
        f"computes/{INSTANCE}", f"computes/{CLUSTER}", f"onlineendpoints/{ENDPOINT}",
        f"onlineendpoints/{ENDPOINT}/deployments/blue", f"onlineendpoints/{ENDPOINT}/deployments/green"])
    assert back[f"onlineendpoints/{ENDPOINT}"]["properties"]["traffic"] == SPLIT
    view = status_view(record)
    assert view["leftToDo"] == [] and view["renamedComputes"] == {}
    assert all(i["state"] == "restored" for i in view["workload"]), view["workload"]
    assert record.result["workloadRestoredIn"] == SOURCE
    assert [s["name"] for s in record.steps if s["name"] in ("quiesce", "compensate", "restore")] == [
        "quiesce", "compensate"]


def test_a_definition_arm_refuses_at_the_destination_is_left_to_do_with_its_definition(run_move, sim):
    make_busy(SOURCE)
    sim.control("POST", "faults", json={"method": "PUT", "path": f"rg-ml-dev-2/.*/computes/{CLUSTER}$",
                                        "kind": "error", "status": 400, "count": 100})
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = run_move(plan)
    assert run.output["state"] == "NeedsAttention", run.output
    view = status_view(row(plan))
    (todo,) = view["leftToDo"]
    assert todo["kind"] == "recreate-compute" and todo["target"] == f"{TARGET}/computes/{CLUSTER}"
    assert todo["definition"]["properties"]["properties"]["scaleSettings"]["maxNodeCount"] == 6
    assert todo["droppedSecrets"] == ["properties.properties.userAccountCredentials.adminUserPassword"]
    assert CLUSTER_PASSWORD not in json.dumps(view)
    there = workload_at(sim, TARGET)
    assert f"computes/{CLUSTER}" not in there and there[f"onlineendpoints/{ENDPOINT}"]["properties"]["traffic"] == SPLIT


def test_a_delete_arm_refuses_fails_the_move_before_it_starts_and_puts_the_rest_back(run_move, sim):
    make_busy(SOURCE)
    sim.control("POST", "faults", json={"method": "DELETE", "path": f"ws-twin/onlineEndpoints/{ENDPOINT}$",
                                        "kind": "error", "status": 409, "count": 100})
    sim.control("DELETE", "requests")
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = run_move(plan)
    assert run.output["state"] == "Failed", run.output
    record = row(plan)
    assert record.error["code"] == "QuiesceFailed" and record.error["phase"] == "quiesce"
    assert not [r for r in sim.control("GET", "requests").json() if "MoveResources" in r["path"]]
    back = workload_at(sim, SOURCE)
    assert {f"computes/{INSTANCE}", f"computes/{CLUSTER}", f"onlineendpoints/{ENDPOINT}"} <= set(back)
    states = {(i["kind"], i["name"]): i["state"] for i in status_view(record)["workload"]}
    assert states[("compute", INSTANCE)] == "restored" and states[("endpoint", ENDPOINT)] == "restored"
    assert status_view(record)["leftToDo"] == []


def test_cancel_jobs_cancels_the_active_jobs_and_does_not_restart_them(run_move, sim):
    plan = make_plan("ws-jobs", DEV2, quiesce=True, cancelJobs=True)
    run = run_move(plan)
    assert run.output["state"] == "Succeeded", run.output
    jobs = {r["name"]: r["properties"]["status"] for r in resources(sim).values()
            if r["id"].lower().startswith(ws_id("ws-jobs", rg="rg-ml-dev-2").lower() + "/jobs/")}
    assert jobs == {"job-running": "Canceled", "job-queued": "Canceled", "job-completed": "Completed"}
    states = {i["name"]: i["state"] for i in status_view(row(plan))["workload"]}
    assert states == {"job-running": "canceled", "job-queued": "canceled"}


def test_a_restore_pass_whose_record_was_lost_re_applies_without_creating_twice(move_env, sim):
    """A host dies after the PUTs but before the row is written: the retried pass starts from the old states."""
    import copy

    from shared.azure.ml_workload import WorkloadGateway
    from shared.moves.workload.quiesce import quiesce_pass
    from shared.moves.workload.restore import restore_pass
    from shared.moves.workload.snapshot import take_workload

    make_busy(SOURCE)
    clients = get_clients()
    gw = WorkloadGateway(clients.arm_pipeline(), arm_endpoint=clients.settings.arm_endpoint)
    items = take_workload(gw, SOURCE, cancel_jobs=False)
    for _ in range(10):
        if quiesce_pass(gw, SOURCE, items):
            break
    sim.control("DELETE", "requests")
    lost = copy.deepcopy(items)
    restore_pass(gw, SOURCE, items, move_id="m", moved=False)  # PUTs sent ...
    items = lost  # ... but their record never reached the row
    for _ in range(20):
        if restore_pass(gw, SOURCE, items, move_id="m", moved=False):
            break
    assert all(i["state"] == "restored" for i in items), items
    puts = [(r["path"].lower(), r["status"]) for r in sim.control("GET", "requests").json() if r["method"] == "PUT"]
    created = Counter(path for path, status in puts if status == 201)
    every = {f"{SOURCE.lower()}/{path}" for path in workload_at(sim, SOURCE)}
    assert set(created) == every and all(n == 1 for n in created.values()), created  # each created exactly once
    assert {p for p, s in puts if s == 200} >= {f"{SOURCE.lower()}/computes/ci-alice"}  # re-applied as an update
    assert len(workload_at(sim, SOURCE)) == 5 and workload_at(sim, SOURCE)[
        f"onlineendpoints/{ENDPOINT}"]["properties"]["traffic"] == SPLIT


def test_a_creation_that_ends_failed_is_left_to_do(run_move, sim):
    make_busy(SOURCE)
    sim.control("POST", "ml/creations", json={"failNext": 1})  # the first re-creation (the instance) fails
    plan = make_plan("ws-twin", DEV2, quiesce=True)
    run = run_move(plan)
    assert run.output["state"] == "NeedsAttention", run.output
    view = status_view(row(plan))
    (todo,) = view["leftToDo"]
    assert todo["kind"] == "recreate-compute" and todo["target"].startswith(f"{TARGET}/computes/{INSTANCE}-")
    assert "could not be provisioned" in todo["message"]
    assert todo["definition"]["properties"]["properties"]["personalComputeInstanceSettings"]["assignedUser"] == OWNER
    assert view["renamedComputes"] == {}  # not restored, so not renamed either
