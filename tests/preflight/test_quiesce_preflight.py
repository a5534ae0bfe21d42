"""The validate route with "quiesce": true: what quiescing solves becomes a warning, the rest still fails."""

from __future__ import annotations

from tests.conftest import SUB_DEV, rg_id

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")


def test_computes_and_endpoints_block_without_quiesce_and_warn_with_it(validate, arm_calls, sim):
    plain = validate("ws-computes", DEV2)
    assert plain.body["ready"] is False and plain.status_of("workspace.no-computes") == "failed"
    sim.control("DELETE", "requests")

    quiesced = validate("ws-computes", DEV2, quiesce=True)
    assert quiesced.status == 200 and quiesced.body["ready"] is True, quiesced.body
    check = quiesced.check("workspace.no-computes")
    assert check["status"] == "warning" and "compute instances under a new name" in check["message"]
    assert {i["name"] for i in check["items"]} == {"ci-dev", "cpu-cluster"}
    assert quiesced.body["armValidation"]["status"] == "deferred"  # ARM would refuse while they exist
    assert not [c for c in arm_calls() if c["path"].endswith("/validateMoveResources")]

    online = validate("ws-online", DEV2, quiesce=True)
    assert online.body["ready"] is True and online.status_of("workspace.no-online-endpoints") == "warning"
    assert "keys are regenerated" in online.check("workspace.no-online-endpoints")["message"]


def test_jobs_need_cancel_jobs_and_the_rest_still_fails(validate):
    jobs = validate("ws-jobs", DEV2, quiesce=True)
    assert jobs.body["ready"] is False and jobs.status_of("workspace.no-active-jobs") == "failed"
    assert "cancelJobs" in jobs.check("workspace.no-active-jobs")["remediation"]

    canceled = validate("ws-jobs", DEV2, quiesce=True, cancelJobs=True)
    assert canceled.body["ready"] is True and canceled.status_of("workspace.no-active-jobs") == "warning"

    for name, check in (("ws-batch", "workspace.no-batch-endpoints"), ("ws-cmk", "workspace.no-cmk"),
                        ("ws-databricks", "workspace.no-databricks-link")):
        answer = validate(name, DEV2, quiesce=True, cancelJobs=True)
        assert answer.body["ready"] is False and answer.status_of(check) == "failed", (name, answer.body)


def test_quiesce_on_a_quiet_workspace_validates_with_arm_at_once(validate):
    answer = validate("ws-twin", DEV2, quiesce=True)
    assert answer.body["ready"] is True and answer.body["armValidation"]["status"] == "succeeded"


def test_cancel_jobs_without_quiesce_and_non_boolean_values_are_400s(validate):
    alone = validate("ws-jobs", DEV2, cancelJobs=True)
    assert alone.status == 400 and alone.body["error"]["target"] == "cancelJobs"
    wrong = validate("ws-jobs", DEV2, quiesce="yes")
    assert wrong.status == 400 and wrong.body["error"]["target"] == "quiesce"
