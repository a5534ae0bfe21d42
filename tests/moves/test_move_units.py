"""Pure parts of the move: ids, the plan's JSON, ARM operation answers, poll delays, the verdict."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from azure.core.rest import HttpRequest

from shared.azure.arm_ids import parse_workspace_id
from shared.moves.operations import ArmFailure, OperationStatus, classify_poll, is_arm_url, next_poll_delay
from shared.moves.plan import MovePlan, MoveTiming, instance_id_for, instance_id_of, is_move_id, new_move_id
from shared.moves.report import Outcome, conclude
from shared.moves.store import MoveRecord, _get_json, _put_json
from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id
from tests.moves.conftest import make_plan

ARM = "https://127.0.0.1:8443"
LOC = f"{ARM}/subscriptions/{SUB_DEV}/operationresults/abc?api-version=2025-04-01"


class FakeResponse:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status_code, self._body, self.headers = status, body, headers or {}
        self.request = HttpRequest("GET", LOC)

    def json(self) -> Any:
        if self._body is None:
            raise ValueError("no body")
        return self._body


def test_instance_id_is_stable_per_workspace_and_free_of_slashes():
    one = instance_id_for(parse_workspace_id(ws_id("ws-quiet")))
    assert one == instance_id_for(
        parse_workspace_id(ws_id("ws-quiet").upper().replace("SUBSCRIPTIONS", "subscriptions"))
    )
    assert one != instance_id_for(parse_workspace_id(ws_id("ws-twin")))
    assert "/" not in one and len(one) == 21
    move_id = new_move_id(one, datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc))
    assert move_id == f"{one}-20300102T030405678Z" and is_move_id(move_id) and instance_id_of(move_id) == one


def test_plan_round_trips_and_maps_moved_ids():
    account = f"{rg_id(SUB_DEV, 'rg-ml-dev')}/providers/Microsoft.Storage/storageAccounts/sttrainingdata"
    plan = make_plan("ws-quiet", includeResources=[account], recreate=True, timing=MoveTiming(min_poll_seconds=1))
    again = MovePlan.from_json(plan.to_json())
    assert again == plan and again.timing.min_poll_seconds == 1 and again.recreate_role_assignments
    assert plan.partition == SUB_DEV
    assert plan.moves(f"{ws_id('ws-quiet')}/datastores/trainingdata") and plan.moves(
        account.upper().replace("SUBSCRIPTIONS", "subscriptions")
    )
    assert not plan.moves(ws_id("ws-quiet") + "-other")
    assert (
        plan.moved_id(account)
        == f"{rg_id(SUB_PROD, 'rg-ml-prod')}/providers/Microsoft.Storage/storageAccounts/sttrainingdata"
    )
    pe = f"{rg_id(SUB_DEV, 'rg-ml-dev')}/providers/Microsoft.Network/privateEndpoints/pe"
    assert plan.moved_id(pe) == pe


@pytest.mark.parametrize(
    "status, body, headers, expected",
    [
        (202, None, {"Retry-After": "15"}, ("running", 15)),
        (204, None, {}, ("succeeded", None)),
        (200, {}, {}, ("succeeded", None)),
        (429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "9"}, ("throttled", 9)),
        (503, {"error": {"code": "ServiceUnavailable", "message": "busy"}}, {}, ("transient", None)),
        (500, None, {}, ("transient", None)),
        (
            409,
            {
                "error": {
                    "code": "ResourceMoveProviderValidationFailed",
                    "message": "m",
                    "details": [{"code": "A", "target": "/x", "message": "why"}],
                }
            },
            {},
            ("failed", None),
        ),
        (500, {"error": {"code": "ResourceMoveFailed", "message": "provider failed"}}, {}, ("failed", None)),
    ],
)
def test_poll_answers_are_classified(status, body, headers, expected):
    found = classify_poll(FakeResponse(status, body, headers), LOC, arm_endpoint=ARM)
    assert (found.status, found.retry_after) == expected
    assert found.location == LOC or found.status == "failed"


def test_failed_poll_keeps_arms_reasons_and_redacts_secrets():
    body = {
        "error": {
            "code": "ResourceMoveFailed",
            "message": "bad AccountKey=abc123;",
            "details": [{"code": "X", "target": "/t", "message": "sig=zzz denied"}],
        }
    }
    found = classify_poll(FakeResponse(409, body), LOC, arm_endpoint=ARM)
    assert found.error == {
        "code": "ResourceMoveFailed",
        "message": "bad AccountKey=***;",
        "reasons": [{"code": "X", "target": "/t", "message": "sig=*** denied"}],
    }
    assert ArmFailure.from_body(502, "not json").code == "HTTP502"


def test_only_the_arm_endpoint_gets_polled():
    assert is_arm_url(LOC, ARM)
    assert not is_arm_url("https://evil.example/subscriptions/x", ARM)
    assert not is_arm_url(LOC.replace("https", "http"), ARM)
    assert not is_arm_url("https://127.0.0.1:9999/x", ARM)


@pytest.mark.parametrize("retry_after, expected", [(None, 30), (0, 5), (17, 17), (10_000, 300)])
def test_poll_delay_honours_retry_after_within_bounds(retry_after, expected):
    status = OperationStatus("running", LOC, retry_after)
    assert next_poll_delay(status, fallback=30, minimum=5, maximum=300) == expected


def test_verdicts():
    plan = make_plan("ws-quiet")
    assert conclude(plan, Outcome(moved=False, error={"code": "X"}), None).state == "Failed"
    clean = conclude(
        plan,
        Outcome(
            moved=True,
            approvals={
                "endpoints": [
                    {"status": "Approved", "name": "a", "privateEndpointId": "/pe", "statusBeforeMove": "Approved"}
                ],
                "foreign": [],
            },
            datastores=[{"status": "fixed", "id": "/d", "name": "d"}],
            role_assignments=[{"status": "present"}],
        ),
        {"computes": [], "endpoints": []},
    )
    assert clean.state == "Succeeded" and clean.left_to_do == ()
    messy = conclude(
        plan,
        Outcome(
            moved=True,
            approvals={
                "endpoints": [
                    {"status": "Missing", "name": "a", "privateEndpointId": "/pe", "statusBeforeMove": "Approved"}
                ],
                "foreign": [{"name": "f", "connectionId": "/c", "privateEndpointId": "/other"}],
            },
            datastores=[{"status": "unchanged", "id": "/d", "name": "d"}],
            role_assignments=[
                {"status": "not-moved", "scope": "/ws", "principalId": "p", "roleDefinitionId": "/r/guid"}
            ],
            step_errors={"datastores": "boom"},
        ),
        {"computes": [{"id": ws_id("ws-quiet") + "/computes/c1", "name": "c1", "kind": "AmlCompute"}]},
    )
    assert messy.state == "NeedsAttention"
    assert [i["kind"] for i in messy.left_to_do] == [
        "approve-private-endpoint",
        "review-private-endpoint",
        "recreate-role-assignment",
        "recreate-compute",
        "post-move-step-failed",
    ]
    assert messy.left_to_do[3]["target"].startswith(rg_id(SUB_PROD, "rg-ml-prod"))


def test_long_json_is_split_over_properties_and_read_back():
    entity: dict[str, Any] = {}
    value = {"items": ["x" * 1000] * 100}
    _put_json(entity, "Snapshot", value)
    assert "Snapshot1" in entity and all(len(v) <= 30_000 for v in entity.values())
    assert _get_json(entity, "Snapshot") == value


def test_steps_are_upserted_by_name():
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    record = MoveRecord("m", "i", SUB_DEV, ws_id("ws-quiet"), rg_id(SUB_PROD, "rg-ml-prod"), "Moving", {}, now, now)
    record.put_step("move", "running", polls=1)
    record.put_step("move", "running", polls=2)
    record.put_step("move", "succeeded", polls=2)
    (step,) = record.steps
    assert step["status"] == "succeeded" and step["polls"] == 2 and step["finishedAt"] and step["startedAt"]


def test_an_unknown_outcome_is_needs_attention_with_a_check_move_item_not_failed():
    from shared.moves.report import Outcome, conclude
    from tests.moves.conftest import make_plan

    plan = make_plan()
    message = "ARM did not say where the workspace is after the deadline (source error: 503, target absent)"
    conclusion = conclude(plan, Outcome(error={"code": "MoveOutcomeUnknown", "message": message}, unknown=True), None)
    assert conclusion.state == "NeedsAttention"
    assert [(i["kind"], i["message"]) for i in conclusion.left_to_do] == [("check-move", message)]
    assert conclusion.result["targetWorkspaceId"] is None
