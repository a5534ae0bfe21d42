"""The orchestration trusts no input: its first activity re-checks the plan, and a refusal ends it Failed before any
ARM call or row write (the real orchestrator and activities, driven over Azurite and the simulator)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.move_orchestration import ACTIVITIES
from shared.azure.clients import get_clients
from shared.moves.admission import admit
from shared.moves.launch import record_start
from shared.moves.plan import MovePlan, instance_id_for, instance_id_of
from shared.moves.store import MovesStore
from shared.settings import get_settings
from tests.conftest import SUB_DEV, rg_id, ws_id
from tests.moves.conftest import make_plan
from tests.moves.durable_driver import Driver, real_activities

FORBIDDEN = rg_id(SUB_DEV, "rg-not-allowed")


def rows() -> dict[str, dict]:
    from shared.azure import tables

    return {e["RowKey"]: dict(e) for e in tables.table(get_clients().tables(), tables.MOVES).list_entities()}


def arm_calls(sim: Any) -> list[dict]:
    return [r for r in sim.control("GET", "requests").json() if not r["path"].startswith("/_sim/")]


def check(plan: Any, instance_id: str | None = None) -> dict:
    raw = plan.to_json() if isinstance(plan, MovePlan) else plan
    iid = instance_id if instance_id is not None else (instance_id_of(plan.move_id) if isinstance(plan, MovePlan) else "move-x")
    return admit(get_clients(), get_settings(), raw, iid).to_json()


def test_a_plan_started_through_the_api_is_admitted(move_env):
    plan = make_plan()
    record_start(get_clients(), plan)
    assert check(plan) == {"admitted": True, "code": "", "reason": ""}


@pytest.mark.parametrize(
    "case, code",
    [
        ("forbidden-target", "TargetNotAllowed"),
        ("other-instance", "InstanceMismatch"),
        ("foreign-move-id", "MoveIdMismatch"),
        ("no-row", "MoveNotRecorded"),
        ("row-ran-already", "MoveAlreadyRan"),
        ("plan-differs", "PlanMismatch"),
        ("garbage", "InvalidPlan"),
    ],
)
def test_each_broken_promise_is_refused_with_its_code(move_env, case, code):
    plan = make_plan()
    instance = instance_id_of(plan.move_id)
    raw: Any = plan
    if case == "forbidden-target":
        raw = make_plan(target=FORBIDDEN)
        instance = instance_id_of(raw.move_id)
    elif case == "other-instance":
        record_start(get_clients(), plan)
        instance = instance_id_for(make_plan("ws-twin").request.workspace)
    elif case == "foreign-move-id":
        other = make_plan("ws-twin")
        raw = {**plan.to_json(), "moveId": other.move_id}
    elif case == "row-ran-already":
        record_start(get_clients(), plan)
        MovesStore.of(get_clients()).update(plan.partition, plan.move_id, lambda r: r.put_step("snapshot", "succeeded"))
    elif case == "plan-differs":
        record_start(get_clients(), plan)
        raw = {**plan.to_json(), "resources": [*plan.resources, ws_id("ws-twin")]}
    elif case == "garbage":
        raw = {"moveId": plan.move_id, "request": "nope"}
    answer = check(raw, instance)
    assert answer["admitted"] is False and answer["code"] == code, answer


def test_hand_started_orchestration_with_a_forbidden_target_fails_without_any_write(move_env, functions, sim):
    """An existing move's row stays as it was, and the simulator sees no ARM call at all."""
    existing = make_plan()
    record_start(get_clients(), existing)
    before = rows()
    sim.control("DELETE", "requests")
    # Same workspace (so the same instance id and move-id prefix), a target outside the allow-list, the existing
    # move's id: what an attacker holding the system key could start by hand.
    forged = make_plan(target=FORBIDDEN, createTargetResourceGroup=True)
    forged_input = {**forged.to_json(), "moveId": existing.move_id}
    run = Driver(
        functions["move_orchestrator"].get_user_function(),
        real_activities(functions, ACTIVITIES),
        instance_id=instance_id_of(existing.move_id),
    ).run("move_orchestrator", forged_input)
    assert run.output is None and "TargetNotAllowed" in str(run.error)
    assert run.names == ["move_admit"]
    assert arm_calls(sim) == []
    assert json.dumps(rows(), default=str) == json.dumps(before, default=str)
