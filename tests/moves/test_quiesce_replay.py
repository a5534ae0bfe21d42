"""The orchestrator with "quiesce": true, replayed by azure-functions-durable's engine with scripted activities:
the exact calls and timers, compensation on every failure after the quiesce, deterministic replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.moves.conftest import make_plan
from tests.moves.durable_driver import T0, Driver, leaves
from tests.moves.test_orchestrator_replay import LOC_M, LOC_V, activities, scripted


def step(*answers: tuple[str, bool]) -> Any:
    """move_workload_step answering `done` per pass, checking the phase it was asked for."""
    queue = iter(answers)

    def activity(payload: dict) -> dict:
        phase, done = next(queue)
        assert payload["phase"] == phase, (payload["phase"], phase)
        return {"done": done, "count": 6, "counts": {}, "failed": 0}

    return activity


def table(**overrides: Any) -> dict:
    base = activities(
        move_workload_snapshot=lambda p: {"done": True, "count": 6, "counts": {"present": 6}, "failed": 0},
        move_poll=scripted([{"status": "succeeded", "location": LOC_V}, {"status": "succeeded", "location": LOC_M}]),
        move_approve_private_endpoints=lambda p: {"endpoints": [], "foreign": [], "done": True},
    )
    base.update(overrides)
    return base


def drive(handle: Any, activities_table: dict):
    plan = make_plan("ws-twin", quiesce=True)
    return Driver(handle, activities_table).run("move_orchestrator", plan.to_json())


def test_quiesce_then_move_then_restore_before_the_other_chores(functions):
    handle = functions["move_orchestrator"].get_user_function()
    run = drive(handle, table(move_workload_step=step(("quiesce", False), ("quiesce", True), ("restore", False),
                                                      ("restore", False), ("restore", True))))
    assert run.error is None
    assert run.names == [
        "move_admit", "move_snapshot", "move_workload_snapshot", "move_workload_step", "move_workload_step",
        "move_start_validation", "move_poll", "move_start", "move_poll",
        "move_workload_step", "move_workload_step", "move_workload_step",
        "move_approve_private_endpoints", "move_check_datastores", "move_check_role_assignments", "move_finish",
    ]
    rounds = [(p["phase"], p["round"]) for n, p in run.calls if n == "move_workload_step"]
    assert rounds == [("quiesce", 1), ("quiesce", 2), ("restore", 1), ("restore", 2), ("restore", 3)]
    # Each pass that is not done waits poll_fallback_seconds (30) on a durable timer.
    assert [t - T0 for t in run.timers][:1] == [timedelta(seconds=30)]
    assert len(run.timers) == 1 + 2 + 2  # quiesce 1, validate 1 + move 1 (Retry-After 7 / fallback), restore 2
    outcome = run.output["outcome"]
    assert outcome["moved"] is True and outcome["restore"]["done"] is True and outcome["stepErrors"] == {}

    again, error = Driver(handle, {}).replay(run.history, run.input_json)
    assert error is None and again["output"] == run.output
    assert {a["actionType"] for a in leaves(again["actions"])} == {1, 5}


def test_a_refused_move_after_the_quiesce_compensates_at_the_source(functions):
    handle = functions["move_orchestrator"].get_user_function()
    refused = {"status": "failed", "location": LOC_M, "error": {"code": "ResourceMoveFailed", "message": "no",
                                                                 "reasons": []}}
    run = drive(handle, table(
        move_poll=scripted([{"status": "succeeded", "location": LOC_V}, refused]),
        move_workload_step=step(("quiesce", True), ("compensate", False), ("compensate", True)),
        move_locate=lambda p: {"where": "source", "source": "present", "target": "absent"},
    ))
    # ARM's failure is believed once the read says the workspace is at the source: then compensation there.
    assert run.names[-5:] == ["move_poll", "move_locate", "move_workload_step", "move_workload_step", "move_finish"]
    outcome = run.output["outcome"]
    assert outcome["moved"] is False and outcome["error"]["code"] == "ResourceMoveFailed"
    assert outcome["compensate"]["done"] is True and "move_check_datastores" not in run.names


def test_an_activity_failing_after_the_quiesce_still_compensates(functions):
    handle = functions["move_orchestrator"].get_user_function()
    boom = RuntimeError("ARM unreachable")
    run = drive(handle, table(
        move_start_validation=scripted([boom, boom, boom]),
        move_workload_step=step(("quiesce", True), ("compensate", True)),
    ))
    outcome = run.output["outcome"]
    assert outcome["error"]["code"] == "StepFailed" and outcome["compensate"]["done"] is True
    assert run.names[-2:] == ["move_workload_step", "move_finish"]


def test_a_failed_quiesce_skips_the_move_and_compensates(functions):
    handle = functions["move_orchestrator"].get_user_function()

    def quiesce_failed(payload: dict) -> dict:
        return {"done": True, "count": 6, "counts": {"remove-failed": 1}, "failed": 1 if payload["phase"] ==
                "quiesce" else 0}

    run = drive(handle, table(move_workload_step=quiesce_failed))
    assert "move_start_validation" not in run.names and "move_start" not in run.names
    outcome = run.output["outcome"]
    assert outcome["error"]["code"] == "QuiesceFailed" and outcome["phase"] == "quiesce"
    assert [p["phase"] for n, p in run.calls if n == "move_workload_step"] == ["quiesce", "compensate"]


def test_without_quiesce_no_workload_activity_runs(functions):
    handle = functions["move_orchestrator"].get_user_function()
    plan = make_plan("ws-twin")
    run = Driver(handle, table()).run("move_orchestrator", plan.to_json())
    assert not [n for n in run.names if n.startswith("move_workload")]
