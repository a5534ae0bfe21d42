"""`GET /api/names/...` (inUse, softDeleted, purgeRequested, free, unknown) and `POST /api/retention/.../purge`."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SUB_DEV, SUB_PROD, call_http, rg_id, ws_id
from tests.retention.conftest import arm_soft_delete, ledger_rows

ROUTE = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}


def name_check(functions, name="ws-quiet", sub=SUB_DEV, rg="rg-ml-dev") -> dict:
    response = call_http(functions, "name_check", route_params={"subscriptionId": sub, "resourceGroup": rg,
                                                                "workspaceName": name})
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def purge(functions, body, name="ws-quiet"):
    response = call_http(functions, "retention_purge", method="POST", body=body,
                         route_params={**ROUTE, "workspaceName": name})
    return response.status_code, json.loads(response.get_body())


@pytest.fixture
def purge_env(topic_env, monkeypatch):
    from shared.azure.clients import reset_clients

    monkeypatch.setenv("AML_LIFECYCLE_PURGE_SCOPES", rg_id(SUB_DEV, "rg-ml-dev"))
    reset_clients()
    return topic_env


def learn(functions, *subs):
    body = {"subscriptionIds": list(subs or [SUB_DEV])}
    assert call_http(functions, "inventory_backfill", method="POST", body=body).status_code == 200


def test_in_use_names_the_live_workspace(topic_env, functions):
    body = name_check(functions)
    assert body["status"] == "inUse" and body["workspaceId"].lower() == ws_id("ws-quiet").lower()
    assert body["internalWorkspaceId"] and body["evidence"][0] == {"source": "arm", "said": "200 OK"}


def test_soft_deleted_is_learned_from_the_activity_log_with_who_when_and_options(topic_env, functions):
    arm_soft_delete("ws-quiet")  # no event delivered, no backfill: the name check reads the Activity Log itself
    body = name_check(functions)
    assert body["status"] == "softDeleted" and body["deletedBy"] == "platform.engineer@contoso.example"
    assert body["blockedUntil"].endswith("Z") and body["ledgerUrl"] == f"/api/retention/{SUB_DEV}/rg-ml-dev/ws-quiet"
    assert [o["action"] for o in body["options"]] == ["recover", "purge"]
    assert "Recently deleted" in body["options"][0]["how"] and "forceToPurge=true" in body["options"][1]["how"]
    sources = [e["source"] for e in body["evidence"]]
    assert sources == ["arm", "activityLog", "ledger"] and body["evidence"][1]["complete"] is True
    assert body["evidence"][2]["learnedFrom"] == "activityLog"


def test_free_only_on_a_complete_activity_log_read_else_unknown(topic_env, sim, functions):
    body = name_check(functions, name="ws-never-existed")
    assert body["status"] == "free" and body["evidence"][1]["complete"] is True
    sim.control("POST", "faults", json={"path": "eventtypes/management/values", "kind": "error", "status": 403,
                                        "count": 3})
    body = name_check(functions, name="ws-never-existed")
    assert body["status"] == "unknown" and "403" in body["reason"] and "14 days" in body["reason"]


def test_unknown_when_arm_cannot_be_read(topic_env, sim, functions):
    sim.control("POST", "faults", json={"path": "workspaces/ws-quiet", "kind": "error", "status": 500, "count": 5})
    body = name_check(functions)
    assert body["status"] == "unknown" and "ARM could not be read" in body["reason"]


def test_other_holders_of_the_name_are_listed_and_marked_never_claimed(topic_env, functions):
    learn(functions, SUB_PROD)  # the scenario's ws-twin in the prod subscription is soft-deleted (the Activity Log says so)
    body = name_check(functions, name="ws-twin-free", sub=SUB_DEV)
    assert "otherHolders" not in body
    arm_soft_delete("ws-twin")
    body = name_check(functions, name="ws-twin")
    assert body["status"] == "softDeleted"
    [other] = body["otherHolders"]
    assert other["workspaceId"].lower() == ws_id("ws-twin", SUB_PROD, "rg-ml-prod").lower()
    assert "not claimed" in body["otherHoldersNote"]


def test_purge_is_refused_outside_the_scopes_naming_the_setting(topic_env, functions):
    arm_soft_delete("ws-quiet")
    learn(functions)
    status, body = purge(functions, {"confirm": "ws-quiet", "reason": "name needed for the pipeline"})
    assert status == 403 and body["error"]["target"] == "AML_LIFECYCLE_PURGE_SCOPES"
    assert "empty" in body["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ({"confirm": "ws-other", "reason": "x"}, "confirm"),
    ({"reason": "x"}, "confirm"),
    ({"confirm": "ws-quiet"}, "reason"),
    ({"confirm": "ws-quiet", "reason": "x", "force": True}, "force"),
])
def test_purge_needs_the_matching_confirm_and_a_reason(purge_env, functions, body, field):
    status, answer = purge(functions, body)
    assert status == 400 and answer["error"]["target"] == field


def test_purge_that_works_closes_the_row_on_the_activity_log_evidence(purge_env, sim, functions):
    arm_soft_delete("ws-quiet")
    learn(functions)
    status, body = purge(functions, {"confirm": "ws-quiet", "reason": "re-deploy needs the name",
                                     "requestedBy": "alice@contoso.example"})
    assert status == 200 and body["outcome"] == "purged" and body["state"] == "PermanentlyDeleted"
    row = ledger_rows(purge_env["AML_LIFECYCLE_TABLES"])[(SUB_DEV, "rg-ml-dev|ws-quiet")]
    audit = json.loads(row["PurgeRequest"])
    # a function key names nobody: the requester is the key holder; the body's name is only a labelled note
    assert audit["requestedBy"] == {"via": "functionKey"} and audit["requestedByNote"] == "alice@contoso.example"
    assert audit["reason"] == "re-deploy needs the name"
    assert audit["armStatus"] == 200 and audit["requestedAt"].endswith("Z")
    assert name_check(functions)["status"] == "free"


def test_a_204_that_leaves_the_name_held_is_purge_requested_not_permanently_deleted(purge_env, sim, functions):
    arm_soft_delete("ws-quiet")
    learn(functions)
    sim.control("POST", "settings", json={"purgeMode": "held204"})
    status, body = purge(functions, {"confirm": "WS-QUIET", "reason": "re-deploy"})
    assert status == 202 and body["outcome"] == "requested" and body["state"] == "SoftDeleted"
    assert "204" in body["purge"]["armSaid"]
    check = name_check(functions)
    assert check["status"] == "purgeRequested" and check["purge"]["armStatus"] == 204


def test_a_404_from_the_purge_is_reported_and_audited_and_the_row_stays(purge_env, sim, functions):
    arm_soft_delete("ws-quiet")
    learn(functions)
    sim.control("POST", "settings", json={"purgeMode": "notFound"})
    status, body = purge(functions, {"confirm": "ws-quiet", "reason": "re-deploy"})
    assert status == 409 and body["error"]["code"] == "PurgeNotFound"
    row = ledger_rows(purge_env["AML_LIFECYCLE_TABLES"])[(SUB_DEV, "rg-ml-dev|ws-quiet")]
    assert row["State"] == "SoftDeleted" and json.loads(row["PurgeRequest"])["armStatus"] == 404
    assert name_check(functions)["status"] == "softDeleted"


def test_purge_of_a_live_workspace_is_refused(purge_env, functions):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings
    from tests.retention.conftest import delivered, event_body, recent

    # The ledger holds a delete, but ARM shows the workspace live (recovered since): nothing is deleted.
    RetentionEvents(get_clients(), get_settings()).handle(delivered(event_body("delete", "ws-quiet", at=recent())))
    status, body = purge(functions, {"confirm": "ws-quiet", "reason": "re-deploy"})
    assert status == 409 and body["error"]["code"] == "WorkspaceLive"
    assert name_check(functions)["status"] == "inUse"
