"""Many moves at once out of one resource group: each waits for ARM's lock on the groups (durable timers), none fails."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace

from handlers.move_orchestration import ACTIVITIES
from shared.azure.clients import get_clients
from shared.moves.launch import new_plan, record_start
from shared.moves.plan import instance_id_of
from shared.moves.request import parse_move_request
from shared.moves.store import MovesStore
from tests.conftest import SUB_DEV, SUB_PROD, TOPIC, rg_id, ws_id
from tests.moves.conftest import TEST_TIMING
from tests.moves.durable_driver import Driver, real_activities, run_together

FLEET, FLEET_TARGET, COUNT = "rg-fleet", "rg-fleet-moved", int(os.environ.get("FLEET_COUNT", "50"))


def _fleet(location: str) -> list[str]:
    clients = get_clients()
    groups = clients.resources(SUB_DEV).resource_groups
    groups.create_or_update(FLEET, {"location": location})
    clients.resources(SUB_PROD).resource_groups.create_or_update(FLEET_TARGET, {"location": location})
    from azure.core.rest import HttpRequest

    pipeline, names = clients.arm_pipeline(), [f"ws-fleet-{n:02d}" for n in range(COUNT)]
    for name in names:
        url = pipeline.format_url(f"{rg_id(SUB_DEV, FLEET)}/providers/Microsoft.MachineLearningServices/workspaces/"
                                  f"{name}")
        answer = pipeline.send_request(HttpRequest("PUT", url, params={"api-version": "2025-09-01"},
                                                   json={"location": location, "properties": {}}))
        assert answer.status_code in (200, 201), answer.text()
    return names


def _plan(name: str):
    request = parse_move_request({"workspaceId": ws_id(name, rg=FLEET),
                                  "targetResourceGroupId": rg_id(SUB_PROD, FLEET_TARGET)}, for_move=True)
    # Queued moves check ARM's lock less often (the back-off's base and cap): fewer calls, the same virtual outcome.
    return new_plan(request, (request.workspace.id,), timing=replace(TEST_TIMING, poll_fallback_seconds=60,
                                                                     max_poll_seconds=900))


def test_fifty_moves_from_one_group_started_together_all_succeed_waiting_for_the_lock(functions, move_env, sim):
    location = next(g["location"] for g in sim.control("GET", "state").json()["resourceGroups"]
                    if g["id"].lower() == rg_id(SUB_DEV, "rg-ml-dev").lower())
    names = _fleet(location)
    plans = [_plan(name) for name in names]
    clients, table = get_clients(), real_activities(functions, ACTIVITIES)
    for plan in plans:
        record_start(clients, plan)
    handle = functions["move_orchestrator"].get_user_function()
    seen_waiting: list[dict] = []
    poll = table["move_poll"]

    def poll_and_look(payload):
        answer = poll(payload)
        if answer.get("lockWait") and len(seen_waiting) < 3:
            record = MovesStore.of(clients).get(payload["plan"]["moveId"])
            seen_waiting.append(next(s for s in record.steps if s["name"] == payload["phase"]))
        return answer

    table["move_poll"] = poll_and_look
    runs = run_together([(Driver(handle, table, instance_id=instance_id_of(p.move_id)), "move_orchestrator",
                          p.to_json()) for p in plans])
    states = Counter(MovesStore.of(clients).get(p.move_id).state for p in plans)
    assert states == {"Succeeded": COUNT}, (states, [r.output for r in runs if r.output["state"] != "Succeeded"][:2])
    # A waiting step says what it waits for and until when.
    assert seen_waiting, "no move had to wait for another's lock"
    step = seen_waiting[0]
    assert step["status"] == "waiting" and "ResourceGroupBeingMoved" in step["waitingFor"]
    assert step["nextCheckAt"].endswith("Z") and step["deadline"].endswith("Z") and step["nextCheckAt"] < step["deadline"]
    # Bounded: one alert per move, all Succeeded, and every move ended well within the lock-wait deadline.
    events = Counter(e["event"]["type"] for e in sim.control("GET", f"topics/{TOPIC}/events").json())
    assert events == {"AmlLifecycle.Move.Succeeded": COUNT}
    longest = max(r.timers[-1] - r.timers[0] for r in runs)
    assert longest.total_seconds() < plans[0].timing.lock_wait_deadline_seconds
