"""The move orchestrator replayed by azure-functions-durable's own engine over histories the driver records, with
scripted activities: exact calls and timers in order, deterministic replay, the final output."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Iterator

import pytest

from shared.moves.plan import MoveTiming
from tests.moves.conftest import make_plan
from tests.moves.durable_driver import T0, Driver, leaves

LOC_V = "https://127.0.0.1:9/subscriptions/s/operationresults/validate?api-version=2025-04-01"
LOC_M = "https://127.0.0.1:9/subscriptions/s/operationresults/move?api-version=2025-04-01"
INVENTORY = {
    "workspaceId": "/ws",
    "location": "westeurope",
    "privateEndpoints": [],
    "datastores": [],
    "roleAssignments": [],
    "computes": [],
    "endpoints": [],
}


def running(location: str, retry_after: int | None = None, status: str = "running") -> dict:
    return {"status": status, "location": location, "retryAfter": retry_after}


def scripted(results: list[Any]) -> Callable[[Any], Any]:
    """An activity answering from a list, in order; an Exception instance is raised."""
    queue: Iterator[Any] = iter(results)

    def activity(payload: Any) -> Any:
        value = next(queue)
        if isinstance(value, Exception):
            raise value
        return value

    return activity


def activities(**overrides: Callable[[Any], Any]) -> dict[str, Callable[[Any], Any]]:
    table = {
        "move_admit": lambda p: {"admitted": True, "code": "", "reason": ""},
        "move_snapshot": lambda p: INVENTORY,
        "move_start_validation": lambda p: running(LOC_V, 7),
        "move_start": lambda p: running(LOC_M),
        "move_poll": scripted(
            [
                {"status": "succeeded", "location": LOC_V},
                running(LOC_M, 20, "throttled"),
                running(LOC_M, None, "transient"),
                {"status": "succeeded", "location": LOC_M},
            ]
        ),
        "move_approve_private_endpoints": scripted(
            [{"endpoints": [], "foreign": [], "done": False}, {"endpoints": [], "foreign": [], "done": True}]
        ),
        "move_check_datastores": lambda p: [],
        "move_check_role_assignments": lambda p: [],
        "move_finish": lambda p: {"state": "echo", "outcome": p["outcome"]},
    }
    table.update(overrides)
    return table


@pytest.fixture(scope="module")
def handle(functions: dict) -> Callable[[Any], str]:
    return functions["move_orchestrator"].get_user_function()


def drive(handle: Callable, table: dict, timing: MoveTiming | None = None):
    plan = make_plan(timing=timing) if timing else make_plan()
    return plan, Driver(handle, table).run("move_orchestrator", plan.to_json())


def test_happy_path_calls_timers_and_output(handle):
    plan, run = drive(handle, activities())
    assert run.error is None
    assert run.names == [
        "move_admit",
        "move_snapshot",
        "move_start_validation",
        "move_poll",
        "move_start",
        "move_poll",
        "move_poll",
        "move_poll",
        "move_approve_private_endpoints",
        "move_approve_private_endpoints",
        "move_check_datastores",
        "move_check_role_assignments",
        "move_finish",
    ]
    # Retry-After 7 honoured; none → the 30 s fallback; a 429 with Retry-After 20; then the approval interval, 60.
    assert [t - T0 for t in run.timers] == [timedelta(seconds=s) for s in (7, 37, 57, 87, 147)]
    polls = [p for n, p in run.calls if n == "move_poll"]
    assert [(p["phase"], p["poll"], p["location"]) for p in polls] == [
        ("validate", 1, LOC_V),
        ("move", 1, LOC_M),
        ("move", 2, LOC_M),
        ("move", 3, LOC_M),
    ]
    assert [p["round"] for n, p in run.calls if n == "move_approve_private_endpoints"] == [1, 2]
    assert all(p["plan"] == plan.to_json() for _, p in run.calls)
    assert run.calls[0][1]["instanceId"] == "move-test"  # the admission check gets the instance id to compare
    outcome = run.output["outcome"]
    assert outcome["moved"] is True and outcome["error"] is None and outcome["stepErrors"] == {}
    assert outcome["approvals"]["done"] is True and outcome["datastores"] == [] and outcome["roleAssignments"] == []


def test_replay_is_deterministic(handle):
    _, run = drive(handle, activities())
    driver = Driver(handle, {})
    final, error = driver.replay(run.history, run.input_json)
    assert error is None and final["isDone"] and final["output"] == run.output
    again, _ = driver.replay(run.history, run.input_json)
    assert again == final
    every = leaves(final["actions"])
    for state in run.states:  # each earlier episode's actions are a prefix of the final ones: nothing changed on replay
        seen = leaves(state["actions"])
        assert seen == every[: len(seen)]
    kinds = [a["actionType"] for a in every]
    assert set(kinds) == {1, 5}  # only retried activity calls and timers: no plain I/O in the orchestrator


def test_failed_validation_stops_before_the_move(handle):
    verdict = {
        "status": "failed",
        "location": LOC_V,
        "error": {"code": "ResourceMoveProviderValidationFailed", "message": "no", "reasons": [{"code": "X"}]},
    }
    _, run = drive(handle, activities(move_poll=scripted([verdict])))
    assert run.names == ["move_admit", "move_snapshot", "move_start_validation", "move_poll", "move_finish"]
    outcome = run.output["outcome"]
    assert outcome["moved"] is False and outcome["phase"] == "validate"
    assert outcome["error"]["code"] == "ResourceMoveProviderValidationFailed"


def test_activity_failing_every_attempt_ends_in_a_clear_failure(handle):
    boom = RuntimeError("ARM unreachable: HTTP 503")
    _, run = drive(handle, activities(move_snapshot=scripted([boom, boom, boom])))
    assert run.error is None
    assert run.names == ["move_admit"] + ["move_snapshot"] * 3 + ["move_finish"]
    outcome = run.output["outcome"]
    assert outcome["error"]["code"] == "StepFailed" and "ARM unreachable" in outcome["error"]["message"]
    assert outcome["moved"] is False and outcome["phase"] == "snapshot"


def test_transient_failure_is_retried_by_the_durable_retry(handle):
    flaky = scripted([RuntimeError("timeout"), running(LOC_M)])
    _, run = drive(handle, activities(move_start=flaky))
    assert run.names.count("move_start") == 2
    assert run.output["outcome"]["moved"] is True


def test_move_that_never_finishes_times_out_at_the_deadline(handle):
    timing = MoveTiming(operation_deadline_seconds=100, min_poll_seconds=0, retry_first_ms=1, retry_attempts=2)

    def forever(p: dict) -> dict:
        return running(p["location"]) if p["phase"] == "move" else {"status": "succeeded", "location": LOC_V}

    at_source = {"where": "source", "source": "present", "target": "absent"}
    _, run = drive(handle, activities(move_poll=forever, move_start_validation=lambda p: running(LOC_V, 0),
                                      move_locate=lambda p: at_source), timing)
    move_timers = [t - T0 for t in run.timers]
    # validate: one timer at +0; move: +30, +60, +90 then clamped to the deadline (+100)
    assert move_timers == [timedelta(0)] + [timedelta(seconds=s) for s in (30, 60, 90, 100)]
    outcome = run.output["outcome"]
    assert outcome["moved"] is False and outcome["error"]["code"] == "OperationTimedOut"
    assert "still at the source" in outcome["error"]["message"] and run.names.count("move_locate") == 1


def test_too_many_transient_polls_are_no_verdict_the_workspace_at_the_target_is(handle):
    timing = MoveTiming(transient_poll_limit=2, identical_failure_limit=10, retry_first_ms=1, retry_attempts=2)

    def flaky(p: dict) -> dict:
        return running(p["location"], 1, "transient") if p["phase"] == "move" else {"status": "succeeded"}

    at_target = {"where": "target", "source": "absent", "target": "present"}
    _, run = drive(handle, activities(move_poll=flaky, move_locate=lambda p: at_target), timing)
    assert run.names.count("move_poll") == 1 + 3 and run.names.count("move_locate") == 1
    outcome = run.output["outcome"]
    assert outcome["moved"] is True and outcome["error"] is None
    assert "move_approve_private_endpoints" in run.names  # the post-move work runs


def test_approval_monitor_stops_at_its_deadline(handle):
    timing = MoveTiming(approval_interval_seconds=60, approval_deadline_seconds=150, retry_first_ms=1, retry_attempts=2)

    def never(p: dict) -> dict:
        return {"endpoints": [{"status": "Missing"}], "foreign": [], "done": False}

    _, run = drive(handle, activities(move_approve_private_endpoints=never), timing)
    assert run.names.count("move_approve_private_endpoints") == 4  # at +0, +60, +120, and at the deadline +150
    assert run.output["outcome"]["approvals"]["done"] is False


def test_a_failing_post_move_step_does_not_stop_the_others(handle):
    timing = MoveTiming(retry_first_ms=1, retry_attempts=2)
    broken = scripted([RuntimeError("datastore listing failed"), RuntimeError("datastore listing failed")])
    _, run = drive(handle, activities(move_check_datastores=broken), timing)
    assert run.names[-3:] == ["move_check_datastores", "move_check_role_assignments", "move_finish"]
    outcome = run.output["outcome"]
    assert outcome["moved"] is True and "datastore listing failed" in outcome["stepErrors"]["datastores"]


def test_a_refused_plan_ends_failed_before_any_other_activity(handle):
    refused = {"admitted": False, "code": "TargetNotAllowed", "reason": "moves to /x are refused"}
    _, run = drive(handle, activities(move_admit=lambda p: refused))
    assert run.names == ["move_admit"]
    assert run.output is None and "TargetNotAllowed" in str(run.error)


def test_an_operation_that_never_answers_and_a_workspace_nowhere_to_be_read_end_needs_attention(handle):
    """Unknown is not Failed: polls keep failing, ARM's reads say neither source nor target; at the deadline the
    outcome is flagged unknown (NeedsAttention, nothing compensated) after reads, not after the 5xx run."""
    timing = MoveTiming(operation_deadline_seconds=600, retry_first_ms=1000, retry_attempts=1)
    flaky = {"status": "transient", "location": LOC_M, "retryAfter": None, "detail": "503 ServiceUnavailable: busy"}
    table = activities(
        move_poll=lambda p: {"status": "succeeded", "location": LOC_V} if p["phase"] == "validate" else flaky,
        move_locate=lambda p: {"where": "unknown", "source": "error: 503", "target": "absent"},
    )
    _, run = drive(handle, table, timing)
    outcome = run.output["outcome"]
    assert outcome["moved"] is False and outcome["unknown"] is True, outcome
    assert outcome["error"]["code"] == "MoveOutcomeUnknown" and "error: 503" in outcome["error"]["message"]
    assert run.names.count("move_locate") >= 2 and run.timers[-1] - T0 >= timedelta(seconds=600)
    assert "move_approve_private_endpoints" not in run.names
