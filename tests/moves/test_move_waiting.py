"""A waiting step says what it waits for, when the app looks next and when it gives up; the fields go with the wait."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.moves import operations as ops
from shared.moves.store import MoveRecord
from shared.moves.waiting import approval_wait, clear_waiting, operation_wait
from tests.moves.conftest import make_plan


def parse(text: str) -> datetime:
    assert text.endswith("Z") and "+00:00" not in text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_approval_wait_names_what_it_waits_for_and_never_looks_after_its_deadline():
    now = datetime.now(timezone.utc)
    soon = (now + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    wait = approval_wait(2, 60, soon)
    assert "2 re-created private endpoint connection(s)" in wait["waitingFor"]
    assert parse(wait["nextCheckAt"]) == parse(wait["deadline"]) == parse(soon)  # capped: 60 s > 20 s left
    later = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    wait = approval_wait(1, 60, later)
    assert timedelta(seconds=50) < parse(wait["nextCheckAt"]) - now <= timedelta(seconds=61)


def test_an_arm_operation_wait_follows_retry_after_and_the_four_hour_limit():
    now = datetime.now(timezone.utc)
    plan = make_plan()
    record = MoveRecord(plan.move_id, "i", plan.partition, plan.request.workspace.id, plan.target.id, "Moving", {},
                        now, now)
    step = record.put_step("move", "running", at=now)
    status = ops.OperationStatus(status="running", location="https://arm/op", retry_after=45)
    step.update(operation_wait(record, plan, "move", status))
    assert "moveResources" in step["waitingFor"] and "locked" in step["waitingFor"]
    assert timedelta(seconds=40) < parse(step["nextCheckAt"]) - now <= timedelta(seconds=46)
    assert abs(parse(step["deadline"]) - (now + timedelta(seconds=plan.timing.operation_deadline_seconds))) \
        < timedelta(seconds=2)
    clear_waiting(step)
    assert not {"waitingFor", "nextCheckAt", "deadline"} & set(step)
