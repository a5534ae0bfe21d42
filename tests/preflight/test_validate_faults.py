"""ARM's own validation verdicts and Azure faults: 409 reasons, throttling, failing and slow reads."""

from tests.conftest import SUB_PROD, rg_id, ws_id
from tests.preflight.conftest import PROD


def statuses(calls, needle):
    return [c["status"] for c in calls if needle in c["path"]]


def test_arm_409_is_reported_with_readable_reasons_per_resource(validate):
    # ws-twin's name is held by a soft-deleted workspace in ml-prod that the (empty) ledger does not know about.
    answer = validate("ws-twin", PROD)
    assert answer.status == 200
    assert answer.status_of("target.name-free") == "passed"
    arm = answer.body["armValidation"]
    assert arm["status"] == "failed"
    assert arm["error"]["code"] == "ResourceMoveProviderValidationFailed"
    reasons = arm["error"]["reasons"]
    assert [(r["target"], r["code"]) for r in reasons] == [(ws_id("ws-twin"), "BadRequest")]
    assert "Soft-deleted workspace exists. Please purge or recover it." in reasons[0]["message"]
    assert answer.body["ready"] is False


def test_throttled_validation_is_retried_after_retry_after_and_passes(validate, fault, arm_calls):
    fault("validateMoveResources$", "throttle", count=1, retryAfter=1)
    answer = validate("ws-quiet", PROD)
    assert answer.body["armValidation"] == {"status": "succeeded"}
    assert answer.body["ready"] is True
    assert statuses(arm_calls(), "validateMoveResources") == [429, 202]


def test_persistently_throttled_validation_is_reported_as_throttled_not_a_500(validate, fault, fast_retries, arm_calls):
    fault("validateMoveResources$", "throttle", count=100, retryAfter=0)
    answer = validate("ws-quiet", PROD)
    assert answer.status == 200
    arm = answer.body["armValidation"]
    assert arm["status"] == "throttled"
    assert arm["error"]["code"] == "TooManyRequests" and "throttling" in arm["error"]["message"]
    assert answer.body["ready"] is False
    attempts = statuses(arm_calls(), "validateMoveResources")
    assert set(attempts) == {429} and 1 < len(attempts) <= 5  # bounded retries


def test_validation_server_errors_are_reported_as_error(validate, fault, fast_retries):
    fault("validateMoveResources$", "error", status=503, count=100)
    arm = validate("ws-quiet", PROD).body["armValidation"]
    assert arm["status"] == "error" and arm["error"]["message"]


def test_a_throttled_read_is_retried_and_its_check_still_answers(validate, fault, arm_calls):
    fault("/computes$", "throttle", count=1, retryAfter=1)
    answer = validate("ws-computes", PROD)
    assert answer.status_of("workspace.no-computes") == "failed"
    assert len(answer.check("workspace.no-computes")["items"]) == 2
    assert statuses(arm_calls(), "/computes")[:2] == [429, 200]


def test_a_failing_read_skips_its_check_only(validate, fault, fast_retries):
    fault("ws-quiet/computes$", "error", status=500, count=100)
    answer = validate("ws-quiet", PROD)
    assert answer.status == 200
    check = answer.check("workspace.no-computes")
    assert check["status"] == "skipped"
    assert "500" in check["message"]
    others = [c for c in answer.body["checks"] if c["id"] != "workspace.no-computes"]
    assert all(c["status"] in ("passed", "warning") for c in others)
    assert answer.body["ready"] is False  # a required check could not be verified
    assert answer.body["armValidation"]["status"] == "succeeded"  # nothing failed, so ARM still validated


def test_a_failing_informational_read_does_not_block(validate, fault, fast_retries):
    fault("roleAssignments$", "error", status=500, count=100)
    answer = validate("ws-quiet", PROD)
    assert answer.status_of("role-assignments.not-moved") == "skipped"
    assert answer.body["ready"] is True


def test_a_read_that_overruns_its_timeout_becomes_skipped(app_env, fault):
    from shared.azure.clients import get_clients
    from shared.moves.request import parse_move_request
    from shared.moves.snapshot import read_snapshot

    fault("ws-quiet/batchEndpoints$", "latency", latencyMs=3000, count=1)
    request = parse_move_request(
        {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}
    )
    snapshot = read_snapshot(get_clients(), request, timeout=1.5)
    assert snapshot.batch_endpoints.error == "no answer within 1.5s"
    assert snapshot.computes.ok and snapshot.workspace.ok
