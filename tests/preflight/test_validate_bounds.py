"""The HTTP bound: a slow ARM validation answers 202 and a status URL served by a durable orchestration; waits are
capped; a group the preflight created is removed when validation fails."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.functions as func
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from shared.moves.preflight import arm_validation
from tests.conftest import SUB_DEV, SUB_PROD, rg_id
from tests.moves.durable_driver import Driver, real_activities
from tests.preflight.conftest import PROD

ACTIVITIES = ["move_validation_admit", "move_validation_poll", "move_validation_finish"]


class StatusClient:
    def __init__(self, status: dict) -> None:
        self.status = DurableOrchestrationStatus.from_json(status)

    async def get_status(self, instance_id: str, **_: Any) -> DurableOrchestrationStatus:
        return self.status


def status_of(functions: dict, validation_id: str, status: dict) -> tuple[int, dict]:
    request = func.HttpRequest("GET", f"http://localhost:7071/api/moves/validations/{validation_id}", body=b"",
                               route_params={"validationId": validation_id})
    handler = functions["move_validation_status"].get_user_function().client_function
    response = asyncio.run(handler(request, client=StatusClient(status)))
    return response.status_code, json.loads(response.get_body())


def drive(functions: dict, started: tuple) -> Any:
    name, instance_id, payload = started
    handle = functions[name].get_user_function()
    return Driver(handle, real_activities(functions, ACTIVITIES), instance_id=instance_id).run(name, payload)


def test_validation_slower_than_the_bound_is_202_then_a_report_at_the_status_url(
    validate, sim, durable_client, functions, monkeypatch, arm_calls
):
    monkeypatch.setattr(arm_validation, "ARM_VALIDATE_BOUND_SECONDS", 0.5)  # 45 s in the app
    sim.control("POST", "settings", json={"validationSeconds": 300})  # "may take several minutes"
    answer = validate("ws-quiet", PROD)
    assert answer.status == 202, answer.body
    assert answer.body["armValidation"]["status"] == "running" and answer.body["ready"] is False
    assert answer.body["statusUrl"].endswith(f"/api/moves/validations/{answer.body['validationId']}")
    (started,) = durable_client.started
    assert started[0] == "move_validation_orchestrator" and started[1] == answer.body["validationId"]

    code, body = status_of(functions, started[1], {"runtimeStatus": "Running", "instanceId": started[1]})
    assert code == 202 and body["status"] == "Running"

    sim.control("POST", "settings", json={"validationSeconds": 0})  # ARM finishes
    run = drive(functions, started)
    assert run.timers, "the orchestration waits with durable timers"
    assert run.output["armValidation"] == {"status": "succeeded"} and run.output["ready"] is True
    code, body = status_of(functions, started[1],
                           {"runtimeStatus": "Completed", "instanceId": started[1], "output": run.output})
    assert code == 200 and body["ready"] is True and body["validationId"] == started[1]


def test_unknown_validation_id_is_404(functions):
    code, body = status_of(functions, "validation-" + "0" * 32, {"instanceId": "x"})
    assert code == 404 and body["error"]["code"] == "ValidationNotFound"


def test_a_long_retry_after_is_not_waited_for(validate, fault, arm_calls):
    # azure-core honours any Retry-After; the app caps the wait at 30 s and reports the read throttled instead.
    fault("/validateMoveResources$", kind="throttle", retryAfter=3600, count=10)
    answer = validate("ws-quiet", PROD)
    assert answer.status == 200
    assert answer.body["armValidation"]["status"] == "throttled", answer.body["armValidation"]
    posts = [c for c in arm_calls() if c["path"].endswith("/validateMoveResources")]
    assert len(posts) == 1  # no retry: it would have meant waiting an hour


def test_a_group_created_for_a_failed_validation_is_deleted_again(validate, sim, fault):
    target = rg_id(SUB_PROD, "rg-new-for-move")
    # Every check passes; ARM's validation then fails (its operation answers 409 with a reason).
    fault("/operationresults/", kind="error", status=409, count=1)
    answer = validate("ws-quiet", target, createTargetResourceGroup=True)
    assert answer.status == 200, answer.body
    assert answer.body["armValidation"]["status"] == "failed" and answer.body["ready"] is False
    assert answer.body["targetResourceGroupCreated"] is True and answer.body["targetResourceGroupDeleted"] is True
    assert "deleted again" in answer.check("target.resource-group")["message"]
    state = sim.control("GET", "state").json()
    assert not any(g["id"].lower() == target.lower() for g in state["resourceGroups"])


def test_a_group_created_for_a_ready_move_stays(validate, sim):
    target = rg_id(SUB_PROD, "rg-new-for-move")
    answer = validate("ws-quiet", target, createTargetResourceGroup=True)
    assert answer.body["ready"] is True and answer.body["targetResourceGroupDeleted"] is False
    state = sim.control("GET", "state").json()
    assert any(g["id"].lower() == target.lower() for g in state["resourceGroups"])


def test_a_hand_started_validation_with_a_forged_input_makes_no_arm_write(validate, sim, durable_client, functions,
                                                                          monkeypatch, arm_calls):
    """Anyone holding a system key can start the orchestrator: a forged input (a group it "created", another
    location) is refused before any ARM call, and a group the starter did not record as created is never deleted."""
    monkeypatch.setattr(arm_validation, "ARM_VALIDATE_BOUND_SECONDS", 0.5)
    sim.control("POST", "settings", json={"validationSeconds": 300})
    answer = validate("ws-quiet", PROD)
    assert answer.status == 202, answer.body
    (started,) = durable_client.started
    name, validation_id, payload = started
    victim = rg_id(SUB_PROD, "rg-ml-prod")
    forged = json.loads(json.dumps(payload))
    forged["report"]["targetResourceGroupCreated"] = True  # "the validation created rg-ml-prod": it did not
    forged["request"]["targetResourceGroupId"] = victim
    outside = json.loads(json.dumps(forged))
    outside["request"]["targetResourceGroupId"] = rg_id(SUB_DEV, "rg-not-allowed")
    sim.control("POST", "settings", json={"validationSeconds": 0})
    before = len(arm_calls())
    for instance_id, body in ((validation_id, forged), (validation_id, outside),
                              ("validation-" + "f" * 32, payload)):  # a copy of a real input under another id
        run = drive(functions, (name, instance_id, body))
        assert run.error is not None and run.output is None, run.output
    assert arm_calls()[before:] == []  # not even a poll
    state = sim.control("GET", "state").json()
    assert any(g["id"].lower() == victim.lower() for g in state["resourceGroups"])
    # The real input still runs.
    assert drive(functions, started).output["ready"] is True
