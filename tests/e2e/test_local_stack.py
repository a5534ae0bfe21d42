"""End to end over real HTTP: the demo story, a dev host restart in the middle of a move, a failed delivery redelivered."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from local import demo
from local.ports import free_port
from local.stack import SUB_DEV, arm, call, launch_devhost, start_stack
from local.waiting import wait_until

RG_DEV = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev"
WS = f"{RG_DEV}/providers/Microsoft.MachineLearningServices/workspaces"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with ExitStack() as exits:
        running = start_stack(exits, state_dir=tmp_path_factory.mktemp("stack"), devhost_port=free_port(),
                              extra_env={"AML_LIFECYCLE_DEFAULT_RETENTION_DAYS": "7"}, log=lambda *_: None)
        running.exits = exits
        yield running


def test_the_demo_story_plays_to_a_succeeded_move(stack, capsys):
    assert demo.play(stack) == 0
    story = capsys.readouterr().out
    assert "ledger: SoftDeleted, deleted by platform.engineer@contoso.example" in story
    assert "alert AmlLifecycle.Workspace.SoftDeleted published for ws-online" in story
    assert "alert AmlLifecycle.Retention.ExpiringSoon" in story
    assert "failed: ['workspace.no-computes']" in story
    assert "ARM validateMoveResources: succeeded" in story
    assert "move Succeeded" in story
    assert "private endpoint connection pec-ws-quiet: Approved" in story
    assert "datastore trainingdata: fixed" in story


def _move_state(stack, move_id: str) -> str | None:
    status, body = call(stack, "GET", f"moves/{move_id}")
    return body.get("state") if status == 200 else None


def test_a_dev_host_restart_in_the_middle_of_a_move_resumes_it(stack):
    request = {"workspaceId": f"{WS}/ws-twin",
               "targetResourceGroupId": f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev-2",
               "includeAssociated": True}
    status, started = call(stack, "POST", "moves", request)
    assert status == 202, started
    move_id = started["moveId"]
    wait_until(lambda: _move_state(stack, move_id) == "Moving", "the move in progress", timeout=120, interval=0.2)

    stack.devhost.kill()  # a crash: nothing is flushed on the way out
    stack.devhost = stack.exits.enter_context(
        launch_devhost(stack.env, Path(stack.devhost.log_path).parent,
                       int(stack.devhost.url.rsplit(":", 1)[1])))

    final = wait_until(lambda: (s := _move_state(stack, move_id)) in demo.TERMINAL and s, "the resumed move's end",
                       timeout=300, interval=0.5)
    status, body = call(stack, "GET", f"moves/{move_id}")
    assert final in ("Succeeded", "NeedsAttention"), (body.get("error"), body.get("steps"))
    assert [s["name"] for s in body["steps"] if s["name"] == "move"] == ["move"]  # started once, not twice
    moved = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev-2/providers/Microsoft.MachineLearningServices/workspaces/ws-twin"
    assert arm(stack, "GET", moved)[0] == 200
    assert arm(stack, "GET", f"{WS}/ws-twin")[0] == 404


def test_a_delivery_whose_handler_fails_is_redelivered_and_nothing_is_lost(stack):
    sim = stack.simulator
    sim.control("DELETE", "/_sim/eventgrid/deliveries")
    # The alerts topic fails for longer than the publisher's bounded retries: the first handler run fails.
    sim.control("POST", "/_sim/faults", {"path": r"^/_sim/topics/alerts/api/events$", "kind": "error",
                                         "status": 503, "count": 5})
    status, _ = arm(stack, "DELETE", f"{WS}/ws-batch")
    assert status in (200, 204)

    row = wait_until(lambda: demo._row(stack, "ws-batch"), "the ledger row", timeout=120, interval=0.2)
    assert row["state"] == "SoftDeleted"
    alerts = wait_until(lambda: demo.alerts(stack, "AmlLifecycle.Workspace.SoftDeleted", "/ws-batch"),
                        "the SoftDeleted alert after redelivery", timeout=120, interval=0.2)
    assert len(alerts) == 1

    emitted = sim.control("GET", "/_sim/eventgrid/events")
    [event_id] = [e["id"] for e in emitted if e["eventType"] == "Microsoft.Resources.ResourceDeleteSuccess"
                  and e["subject"].endswith("/workspaces/ws-batch")]
    attempts = [d for d in sim.control("GET", "/_sim/eventgrid/deliveries") if event_id in d["eventIds"]]
    statuses = [d.get("status") for d in attempts]
    assert any(code is None or code >= 500 for code in statuses), statuses
    assert statuses[-1] in (200, 202), statuses
