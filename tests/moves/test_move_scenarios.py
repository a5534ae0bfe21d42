"""Whole moves with the real activities against the ARM simulator and Azurite (virtual time: timers fire at once)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from shared.azure.clients import get_clients
from shared.logs import of_record
from shared.moves.plan import MoveTiming, instance_id_of
from shared.moves.store import MovesStore
from tests.conftest import SUB_DEV, SUB_PROD, TOPIC, log_text, rg_id, ws_id
from tests.moves.conftest import PROD, TEST_TIMING, make_plan
from tests.moves.durable_driver import T0

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
TRAINING_ACCOUNT = f"{rg_id(SUB_DEV, 'rg-ml-dev')}/providers/Microsoft.Storage/storageAccounts/sttrainingdata"
TRAINING_KEY = "dHJhaW5pbmdkYXRhLWFjY291bnQta2V5"  # the seeded secret; must never leave ARM except in the PUT


def row(plan) -> Any:
    return MovesStore.of(get_clients()).get(plan.move_id)


def alerts(sim) -> list[dict]:
    return [item["event"] for item in sim.control("GET", f"topics/{TOPIC}/events").json()]


def resource(sim_state, resource_id: str) -> dict | None:
    return next((r for r in sim_state()["resources"] if r["id"].lower() == resource_id.lower()), None)


def steps(record) -> dict[str, dict]:
    return {s["name"]: s for s in record.steps}


def test_quiescent_workspace_moves_and_succeeds(run_move, sim, sim_state):
    plan = make_plan("ws-twin", DEV2)
    run = run_move(plan)
    assert run.error is None and run.output["state"] == "Succeeded", run.output
    record = row(plan)
    assert record.state == "Succeeded" and record.error is None and record.finished_at is not None
    assert [s["name"] for s in record.steps] == [
        "preflight",
        "snapshot",
        "validate",
        "move",
        "private-endpoints",
        "datastores",
        "role-assignments",
        "report",
        "alert",
    ]
    assert all(s["status"] == "succeeded" for s in record.steps)
    assert resource(sim_state, ws_id("ws-twin", rg="rg-ml-dev-2")) is not None
    assert resource(sim_state, ws_id("ws-twin")) is None
    (alert,) = alerts(sim)
    assert alert["type"] == "AmlLifecycle.Move.Succeeded" and alert["subject"] == ws_id("ws-twin")
    assert alert["data"]["moveId"] == plan.move_id and alert["data"]["leftToDo"] == []


def test_private_endpoint_reapproved_datastore_fixed_secret_kept_and_never_stored(run_move, sim, sim_state, caplog):
    caplog.set_level(logging.DEBUG)
    plan = make_plan("ws-quiet", PROD, include=(), includeResources=[TRAINING_ACCOUNT])
    run = run_move(plan)
    record = row(plan)
    assert record.state == "NeedsAttention", record.result
    new_ws = ws_id("ws-quiet", SUB_PROD, "rg-ml-prod")
    (endpoint,) = record.result["privateEndpoints"]
    assert endpoint["status"] == "Approved" and endpoint["approvedByMove"] is True
    connection = resource(sim_state, f"{new_ws}/privateEndpointConnections/pec-ws-quiet")
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    (datastore,) = record.result["datastores"]
    # The simulator's default after a move: empty subscription / resource group, filled in place (the docs' way).
    assert datastore["name"] == "trainingdata" and datastore["status"] == "fixed", datastore
    props = resource(sim_state, f"{new_ws}/datastores/trainingdata")["properties"]
    assert (props["subscriptionId"], props["resourceGroup"]) == (SUB_PROD, "rg-ml-prod")
    secrets = sim.control("GET", "state").json()  # the simulator's state dump holds no secrets, so ask ARM itself
    assert TRAINING_KEY not in json.dumps(secrets)
    from shared.azure.ml_gateway import MlGateway

    assert (
        MlGateway(get_clients().arm_pipeline()).list_datastore_secrets(f"{new_ws}/datastores/trainingdata")["key"]
        == TRAINING_KEY
    )
    # The role assignment did not move: the one thing left for a person.
    assert [item["kind"] for item in record.result["leftToDo"]] == ["recreate-role-assignment"]
    (alert,) = alerts(sim)
    assert alert["type"] == "AmlLifecycle.Move.NeedsAttention"
    # The secret is nowhere we write: the row, the orchestration history and output, the logs.
    stored = json.dumps(record.to_entity(), default=str) + json.dumps(run.history) + json.dumps(run.output)
    assert TRAINING_KEY not in stored and TRAINING_KEY not in log_text(caplog)
    assert {"moveId", "workspaceId", "state"} <= {k for r in caplog.records for k in of_record(r)}


def test_datastore_whose_account_stayed_is_reported_not_changed(run_move, sim, sim_state):
    sim.control("POST", "settings", json={"datastoreFieldsAfterMove": "source"})
    plan = make_plan("ws-quiet", PROD)
    run_move(plan)
    record = row(plan)
    (datastore,) = record.result["datastores"]
    assert datastore["status"] == "unchanged"
    props = resource(sim_state, f"{ws_id('ws-quiet', SUB_PROD, 'rg-ml-prod')}/datastores/trainingdata")["properties"]
    assert (props["subscriptionId"], props["resourceGroup"]) == (SUB_DEV, "rg-ml-dev")
    assert "fix-datastore" not in [item["kind"] for item in record.result["leftToDo"]]


def test_fix_datastores_false_leaves_the_datastore_and_says_so(run_move, sim_state):
    plan = make_plan("ws-quiet", PROD, includeResources=[TRAINING_ACCOUNT], fixDatastores=False)
    run_move(plan)
    record = row(plan)
    assert record.result["datastores"][0]["status"] == "needs-fix"
    assert "fix-datastore" in [item["kind"] for item in record.result["leftToDo"]]


def test_arm_validation_409_fails_with_its_reasons_and_nothing_moves(run_move, sim, sim_requests, sim_state):
    plan = make_plan("ws-computes", PROD)
    run_move(plan)
    record = row(plan)
    assert record.state == "Failed"
    assert record.error["code"] == "ResourceMoveProviderValidationFailed" and record.error["phase"] == "validate"
    assert "WorkspaceHasComputeResources" in [r["code"] for r in record.error["reasons"]]
    assert steps(record)["validate"]["status"] == "failed" and "move" not in steps(record)
    assert not [r for r in sim_requests() if r["path"].endswith("/moveResources")]
    assert resource(sim_state, ws_id("ws-computes")) is not None
    assert alerts(sim)[0]["type"] == "AmlLifecycle.Move.Failed"


def test_move_failing_half_way_is_failed_with_arm_reasons(run_move, sim, sim_state):
    sim.control("POST", "moves/fail", json={"afterPolls": 1, "code": "ResourceMoveFailed"})
    plan = make_plan("ws-twin", DEV2)
    run_move(plan)
    record = row(plan)
    assert record.state == "Failed" and record.error["code"] == "ResourceMoveFailed" and record.error["phase"] == "move"
    assert record.error["reasons"] and record.error["reasons"][0]["target"] == ws_id("ws-twin")
    assert steps(record)["move"]["status"] == "failed" and steps(record)["move"]["polls"] >= 1
    assert resource(sim_state, ws_id("ws-twin")) is not None
    assert record.result["targetWorkspaceId"] is None


def test_throttled_polls_wait_out_retry_after_and_succeed(functions, move_env, sim, sim_requests):
    from shared.moves.launch import record_start
    from tests.moves.conftest import ACTIVITIES
    from tests.moves.durable_driver import Driver, real_activities

    sim.control("POST", "faults", json={"path": "/operationresults/", "kind": "throttle", "retryAfter": 9, "count": 3})
    plan = make_plan("ws-twin", DEV2, timing=MoveTiming(min_poll_seconds=0, retry_first_ms=1000, retry_attempts=3))
    record_start(get_clients(), plan)
    run = Driver(
        functions["move_orchestrator"].get_user_function(),
        real_activities(functions, ACTIVITIES),
        instance_id=instance_id_of(plan.move_id),
    ).run("move_orchestrator", plan.to_json())
    assert run.output["state"] == "Succeeded"
    throttled = [r for r in sim_requests() if r["status"] == 429]
    assert len(throttled) == 3  # each answered by a durable timer, not by a retry loop inside the activity
    gaps = [b - a for a, b in zip([T0, *run.timers], run.timers)]
    assert gaps.count(timedelta(seconds=9)) == 3
    # the simulator answers 202 once then 204, for validation and move alike: 2 + 2 polls, plus the 3 throttled
    assert steps(row(plan))["validate"]["polls"] + steps(row(plan))["move"]["polls"] == 2 + 2 + 3


def test_private_endpoint_that_never_comes_and_a_foreign_connection(run_move, sim, sim_state):
    plan = make_plan("ws-private", PROD)
    run = run_move(plan)
    record = row(plan)
    assert record.state == "NeedsAttention"
    by_name = {e["name"]: e for e in record.result["privateEndpoints"]}
    assert by_name["pec-ws-private-1"]["status"] == "Approved"
    assert by_name["pec-ws-private-2"]["status"] == "Missing"
    (foreign,) = record.result["foreignConnections"]
    assert foreign["name"] == "pec-foreign-partner"
    kinds = sorted(item["kind"] for item in record.result["leftToDo"])
    assert kinds == ["approve-private-endpoint", "review-private-endpoint"]
    new_ws = ws_id("ws-private", SUB_PROD, "rg-ml-prod")
    partner = resource(sim_state, f"{new_ws}/privateEndpointConnections/pec-foreign-partner")
    assert partner["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"  # left alone
    rounds = steps(record)["private-endpoints"]["rounds"]
    assert rounds == TEST_TIMING.approval_deadline_seconds // TEST_TIMING.approval_interval_seconds + 1
    assert steps(record)["private-endpoints"]["status"] == "incomplete"
    assert run.output["leftToDo"] == 2


def test_approve_none_leaves_connections_pending(run_move, sim_state):
    plan = make_plan("ws-quiet", PROD, approvePrivateEndpoints="none")
    run_move(plan)
    record = row(plan)
    (endpoint,) = record.result["privateEndpoints"]
    assert endpoint["status"] == "Pending"
    assert steps(record)["private-endpoints"]["rounds"] == 1
    assert "approve-private-endpoint" in [item["kind"] for item in record.result["leftToDo"]]


def test_recreate_role_assignments_puts_them_on_the_moved_workspace(run_move, sim_requests):
    plan = make_plan("ws-quiet", PROD, includeResources=[TRAINING_ACCOUNT], recreate=True)
    run_move(plan)
    record = row(plan)
    (assignment,) = record.result["roleAssignments"]
    new_ws = ws_id("ws-quiet", SUB_PROD, "rg-ml-prod")
    assert assignment["status"] == "recreated" and assignment["scope"] == new_ws
    assert assignment["roleDefinitionId"].startswith(f"/subscriptions/{SUB_PROD}/providers/Microsoft.Authorization/")
    puts = [r["path"] for r in sim_requests() if r["method"] == "PUT" and "roleAssignments" in r["path"]]
    assert len(puts) == 1 and puts[0].startswith(f"{new_ws}/providers/Microsoft.Authorization/roleAssignments/")
    assert record.state == "Succeeded" and record.result["leftToDo"] == []


def test_a_repeated_move_start_does_not_post_a_second_move(move_env, sim_requests):
    from shared.moves import activities as move_activities
    from shared.moves.launch import record_start

    plan = make_plan("ws-twin", DEV2)
    clients = get_clients()
    record_start(clients, plan)
    first = move_activities.start_move(clients, plan)
    again = move_activities.start_move(clients, plan)  # a retried or replayed activity
    assert first["status"] == "running" and again["location"] == first["location"]
    assert len([r for r in sim_requests() if r["path"].endswith("/moveResources")]) == 1
    record = row(plan)
    assert record.state == "Moving" and [s["name"] for s in record.steps] == ["preflight", "move"]


def test_an_operation_answering_the_same_500_forever_is_no_verdict_until_arm_says_where_the_workspace_is(
        run_move, sim, sim_state):
    # The operation URL answers 500 on every poll. A run of 5xx is not a verdict: the app reads where the workspace
    # is (still at the source), keeps checking on durable timers, and at the deadline concludes Failed from that read.
    sim.control("POST", "moves/fail", json={"status": 500, "code": "InternalServerError",
                                             "message": "The move failed inside the provider."})
    timing = MoveTiming(approval_interval_seconds=60, approval_deadline_seconds=300, retry_first_ms=1000,
                        retry_attempts=3, operation_deadline_seconds=3600)
    plan = make_plan("ws-twin", DEV2, timing=timing)
    run = run_move(plan)
    record = row(plan)
    assert record.state == "Failed" and record.error["phase"] == "move", record.error
    assert record.error["code"] == "OperationTimedOut" and "still at the source" in record.error["message"]
    assert "The move failed inside the provider." in record.error["message"]
    assert steps(record)["whereabouts"]["where"] == "source" and steps(record)["whereabouts"]["reads"] >= 2
    assert run.timers[-1] - T0 >= timedelta(seconds=3600)  # it kept checking until the deadline, no sooner
    assert steps(record)["move"]["polls"] <= 40  # less and less often
    assert resource(sim_state, ws_id("ws-twin")) is not None


def test_status_shows_each_connection_while_the_move_waits_for_approvals(move_env, functions, sim):
    from handlers.move_orchestration import ACTIVITIES
    from shared.moves.launch import record_start
    from tests.conftest import call_http
    from tests.moves.durable_driver import Driver, real_activities

    plan = make_plan("ws-private", PROD, approvePrivateEndpoints="none")
    record_start(get_clients(), plan)
    table = real_activities(functions, ACTIVITIES)
    seen: list[dict] = []
    approve = table["move_approve_private_endpoints"]

    def approve_then_look(payload: Any) -> Any:
        answer = approve(payload)
        response = call_http(functions, "move_status", route_params={"moveId": plan.move_id})
        seen.append(json.loads(response.get_body()))
        return answer

    table["move_approve_private_endpoints"] = approve_then_look
    handle = functions["move_orchestrator"].get_user_function()
    Driver(handle, table, instance_id=instance_id_of(plan.move_id)).run("move_orchestrator", plan.to_json())
    interim = seen[0]
    assert interim["state"] == "PostMove", interim["state"]  # still waiting, before the final report
    by_name = {e["name"]: e["status"] for e in interim["privateEndpoints"]}
    assert by_name["pec-ws-private-2"] == "Missing" and by_name["pec-ws-private-1"] in ("Pending", "Missing")
    states = interim["privateEndpointStates"]
    assert states["missing"] >= 1 and states["foreign"] == len(interim["foreignConnections"]) and states["checkedAt"]
    assert all("_" not in key for key in interim)  # one naming style: camelCase
    for entry in interim["snapshot"]["privateEndpoints"] + interim["snapshot"]["datastores"]:
        assert all("_" not in key for key in entry), entry


def test_a_group_the_move_created_is_deleted_again_when_its_validation_fails(run_move, sim):
    target = rg_id(SUB_PROD, "rg-created-by-move")
    plan = make_plan("ws-computes", target, createTargetResourceGroup=True)
    run_move(plan)
    record = row(plan)
    assert record.state == "Failed" and record.error["phase"] == "validate"
    step = steps(record)["target-resource-group"]
    assert step["status"] == "deleted" and "deleted again" in step["detail"], step
    groups = [g["id"].lower() for g in sim.control("GET", "state").json()["resourceGroups"]]
    assert target.lower() not in groups


def test_a_move_step_rerun_after_a_crash_before_its_location_was_recorded_converges(move_env, sim):
    """The host died between POST moveResources and recording its Location: the re-run's POST is refused while
    that move holds the groups; the step then converges by reading instead of failing the move."""
    from local.waiting import wait_until
    from shared.moves import activities, operations
    from shared.moves.launch import record_start

    sim.control("POST", "settings", json={"unpolledOperationSeconds": 0.5})
    plan = make_plan("ws-twin", DEV2)
    clients = get_clients()
    record_start(clients, plan)
    MovesStore.of(clients).update(plan.partition, plan.move_id, lambda r: r.put_step("move", "starting"))
    lost = operations.start_operation(clients.arm_pipeline(), operations.MOVE, plan.source, plan.target,
                                      list(plan.resources), arm_endpoint=clients.settings.arm_endpoint)
    assert lost.status == operations.RUNNING  # the earlier attempt's move; its Location is never recorded

    again = activities.start_move(clients, plan)
    assert again["status"] == "running" and again["location"] is None, again
    polls = iter(range(1, 1000))
    final = wait_until(lambda: (s := activities.poll(clients, plan, "move", None, next(polls)))["status"] != "running"
                       and s, "the earlier move's end", timeout=30, interval=0.2)
    assert final["status"] == "succeeded", final
    assert steps(row(plan))["move"]["status"] == "succeeded"


def test_a_throttled_start_waits_on_a_durable_timer_not_in_the_activity(run_move, sim, sim_requests):
    # 429 with Retry-After: 3600 on the validation's POST: past the 30 s cap, so no wait inside the activity; the
    # orchestration waits (a durable timer, kept within max_poll_seconds) and POSTs again.
    sim.control("POST", "faults", json={"path": "/validateMoveResources$", "method": "POST", "kind": "throttle",
                                        "retryAfter": 3600, "count": 1})
    plan = make_plan("ws-twin", DEV2)
    run = run_move(plan)
    assert run.output["state"] == "Succeeded", run.output
    posts = [r for r in sim_requests() if r["method"] == "POST" and r["path"].endswith("/validateMoveResources")]
    assert [r["status"] for r in posts] == [429, 202]
    gaps = [b - a for a, b in zip([T0, *run.timers], run.timers)]
    assert timedelta(seconds=plan.timing.max_poll_seconds) in gaps


def test_inventory_follows_the_moved_workspace_so_a_later_delete_gets_a_full_recovery_report(run_move, functions,
                                                                                            sim):
    from datetime import datetime, timezone

    from shared.azure import tables
    from shared.retention.ingest import RetentionEvents
    from shared.retention.inventory import Inventory
    from shared.settings import get_settings
    from tests.conftest import call_http
    from tests.retention.conftest import arm_soft_delete, delivered, event_body

    assert call_http(functions, "inventory_backfill", method="POST", body={"subscriptionIds": [SUB_DEV]}).status_code == 200
    inventory = Inventory(tables.table(get_clients().tables(), tables.INVENTORY))
    before = inventory.get(SUB_DEV, "rg-ml-dev", "ws-twin")
    plan = make_plan("ws-twin", DEV2)
    assert run_move(plan).output["state"] == "Succeeded"

    moved = inventory.get(SUB_DEV, "rg-ml-dev-2", "ws-twin")
    assert moved is not None and moved.workspace_id.lower() == ws_id("ws-twin", rg="rg-ml-dev-2").lower()
    assert moved.internal_id == before.internal_id and set(moved.dependencies) >= {"keyVault", "storageAccount"}
    assert inventory.get(SUB_DEV, "rg-ml-dev", "ws-twin").moved_to.lower() == moved.workspace_id.lower()

    arm_soft_delete("ws-twin", rg="rg-ml-dev-2")
    now = datetime.now(timezone.utc)
    event = delivered(event_body("delete", "ws-twin", rg="rg-ml-dev-2", at=now))
    RetentionEvents(get_clients(), get_settings()).handle(event, now=now)
    route = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev-2", "workspaceName": "ws-twin"}
    recovery = json.loads(call_http(functions, "retention_get", route_params=route).get_body())["recovery"]
    assert "note" not in recovery, recovery.get("note")
    assert {d["role"] for d in recovery["dependencies"] if d["resourceId"]} >= {"keyVault", "storageAccount"}
