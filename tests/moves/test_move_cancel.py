"""`POST /api/moves/{moveId}/cancel` through its real entry point (the Durable client a recording fake): audited on
the row, refused while ARM moves, and an activity still in flight writes nothing more to ARM afterwards."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.functions as func
import pytest

from shared.azure.clients import get_clients
from shared.moves import activities as work
from shared.moves.launch import record_start
from shared.moves.plan import instance_id_of
from shared.moves.store import MovesStore
from tests.moves.conftest import make_plan
from tests.moves.test_moves_http import FakeDurableClient

WHO = {"reason": "wrong target group", "requestedBy": "alice@contoso.example"}


def cancel(functions: dict, move_id: str, body: Any, client: FakeDurableClient) -> tuple[int, dict]:
    request = func.HttpRequest(
        "POST",
        f"http://localhost:7071/api/moves/{move_id}/cancel",
        headers={"content-type": "application/json"},
        route_params={"moveId": move_id},
        body=json.dumps(body).encode(),
    )
    response = asyncio.run(functions["move_cancel"].get_user_function().client_function(request, client=client))
    return response.status_code, json.loads(response.get_body())


def running(move_id: str) -> FakeDurableClient:
    return FakeDurableClient(
        {
            "name": "move_orchestrator",
            "instanceId": instance_id_of(move_id),
            "runtimeStatus": "Running",
            "createdTime": "2030-01-01T08:00:00Z",
            "input": {"moveId": move_id},
        }
    )


def started() -> Any:
    plan = make_plan()
    record_start(get_clients(), plan)
    return plan


def test_cancel_terminates_the_instance_and_audits_who_when_why(move_env, functions):
    plan = started()
    client = running(plan.move_id)
    code, view = cancel(functions, plan.move_id, WHO, client)
    assert code == 200, view
    assert view["state"] == "Failed" and view["error"]["code"] == "Cancelled" and view["finishedAt"]
    (step,) = [s for s in view["steps"] if s["name"] == "cancellation"]
    # With function keys nobody is signed in: the body's requestedBy is kept, labelled as the caller's note.
    assert step["canceledBy"] == {"via": "functionKey"} and step["requestedByNote"] == WHO["requestedBy"]
    assert step["reason"] == WHO["reason"] and step["startedAt"] and "requestedBy" not in step
    assert client.terminated == [(instance_id_of(plan.move_id), "cancelled: wrong target group")]
    assert MovesStore.of(get_clients()).get(plan.move_id).state == "Failed"


def test_an_instance_running_a_later_move_is_not_terminated(move_env, functions):
    plan = started()
    client = running(instance_id_of(plan.move_id) + "-20991231T000000000Z")
    code, _ = cancel(functions, plan.move_id, WHO, client)
    assert code == 200 and client.terminated == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"requestedBy": "alice"}, "reason"),
        ({"reason": "x", "requestedBy": ""}, "requestedBy"),
        ({**WHO, "force": True}, "force"),
        ({"reason": "rotate code=abc123", "requestedBy": "alice"}, "reason"),
    ],
)
def test_bad_body_is_400_naming_the_field_and_changes_nothing(move_env, functions, body, field):
    plan = started()
    client = running(plan.move_id)
    code, answer = cancel(functions, plan.move_id, body, client)
    assert code == 400 and answer["error"]["target"] == field
    assert client.terminated == [] and MovesStore.of(get_clients()).get(plan.move_id).state == "Validating"


def test_unknown_move_is_404(move_env, functions):
    code, answer = cancel(functions, "move-0000000000000000-20300101T080000000Z", WHO, FakeDurableClient())
    assert code == 404 and answer["error"]["code"] == "MoveNotFound"


@pytest.mark.parametrize(
    "state, code",
    [("Moving", "MoveNotCancellable"), ("Succeeded", "MoveFinished"), ("Failed", "MoveFinished")],
)
def test_moving_or_finished_move_is_409_and_untouched(move_env, functions, state, code):
    plan = started()
    MovesStore.of(get_clients()).update(plan.partition, plan.move_id, lambda r: setattr(r, "state", state))
    client = running(plan.move_id)
    status, answer = cancel(functions, plan.move_id, WHO, client)
    assert status == 409 and answer["error"]["code"] == code
    record = MovesStore.of(get_clients()).get(plan.move_id)
    assert record.state == state and record.step("cancellation") is None and client.terminated == []


def test_second_cancel_is_409(move_env, functions):
    plan = started()
    assert cancel(functions, plan.move_id, WHO, running(plan.move_id))[0] == 200
    status, answer = cancel(functions, plan.move_id, WHO, running(plan.move_id))
    assert status == 409 and answer["error"]["code"] == "MoveAlreadyCancelled"


def test_after_a_cancel_an_activity_in_flight_writes_nothing_to_arm(move_env, functions, sim):
    plan = make_plan(createTargetResourceGroup=True)
    record_start(get_clients(), plan)
    assert cancel(functions, plan.move_id, WHO, running(plan.move_id))[0] == 200
    sim.control("DELETE", "requests")
    with pytest.raises(work.MoveCancelled):
        work.start_move(get_clients(), plan)
    with pytest.raises(work.MoveCancelled):
        work.start_validation(get_clients(), plan, None)
    writes = [r for r in sim.control("GET", "requests").json() if r["method"] != "GET" and "/_sim/" not in r["path"]]
    assert writes == []
    assert MovesStore.of(get_clients()).get(plan.move_id).state == "Failed"


def test_cancel_after_the_move_leaves_it_needing_attention(move_env, functions, sim, caplog):
    plan = started()
    store = MovesStore.of(get_clients())
    store.update(plan.partition, plan.move_id, lambda r: (setattr(r, "state", "PostMove"),
                                                          r.put_step("private-endpoints", "running")))
    with caplog.at_level("INFO"):
        code, view = cancel(functions, plan.move_id, WHO, running(plan.move_id))
    assert code == 200 and view["state"] == "NeedsAttention" and view["error"]["code"] == "Cancelled"
    assert {s["name"]: s["status"] for s in view["steps"]}["private-endpoints"] == "incomplete"
    # Where the workspace is now, and every post-move step the cancel skipped, each for a person to do.
    assert view["targetWorkspaceId"] == plan.target_workspace.id
    skipped = {i["target"] for i in view["leftToDo"] if i["kind"] == "post-move-step-skipped"}
    assert skipped == {"private-endpoints", "datastores", "role-assignments"}
    assert view["statusUrl"] == f"http://localhost:7071/api/moves/{plan.move_id}"
    # The same alert a NeedsAttention move publishes, once, and the move.finished line the alert rule counts.
    events = [e["event"] for e in sim.control("GET", "topics/alerts/events").json()]
    (alert,) = [e for e in events if e["type"] == "AmlLifecycle.Move.NeedsAttention"]
    assert alert["data"]["moveId"] == plan.move_id and len(alert["data"]["leftToDo"]) == 3
    assert any(getattr(r, "kind", None) == "move.finished" or "finished: NeedsAttention" in r.getMessage()
               for r in caplog.records)
    assert store.get(plan.move_id).alert_id == alert["id"]


def test_a_durable_host_that_fails_does_not_undo_the_cancel(move_env, functions):
    plan = started()
    client = running(plan.move_id)

    async def broken(instance_id: str, reason: str) -> None:
        raise Exception("HTTP 500 from the Durable extension")

    client.terminate = broken
    code, view = cancel(functions, plan.move_id, WHO, client)
    assert code == 200 and view["state"] == "Failed"  # the activities refuse ARM writes from here on
