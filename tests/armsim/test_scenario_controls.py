"""Simulator behaviours where Azure is silent or slow, each selectable: foreign-tenant 401, datastore edits in place,
both datastore shapes after a move, bulk jobs and page sizes, a validation that takes minutes."""

from __future__ import annotations

from .conftest import SUB_DEV, SUB_PARTNER, call, ws_id

DATASTORE = ws_id("ws-quiet") + "/datastores/trainingdata"


def test_a_foreign_tenant_subscription_answers_401_invalid_authentication_token_tenant(ml):
    response = call(ml, "GET", f"/subscriptions/{SUB_PARTNER}/resourcegroups/rg-partner")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationTokenTenant" and "wrong issuer" in error["message"]
    assert call(ml, "GET", f"/subscriptions/{SUB_DEV}/resourcegroups/rg-ml-dev").status_code == 200


def _put_location(ml, subscription: str, group: str):
    body = call(ml, "GET", DATASTORE).json()
    props = {**body["properties"], "subscriptionId": subscription, "resourceGroup": group}
    props["credentials"] = {k: v for k, v in props["credentials"].items() if k != "secrets"}
    return call(ml, "PUT", DATASTORE, {"properties": props})


def test_changing_a_datastores_location_in_place_is_accepted_or_refused_as_set(ml, armsim):
    assert _put_location(ml, SUB_DEV, "rg-elsewhere").status_code == 200  # default: accept
    armsim.control("POST", "/_sim/settings", {"datastoreInPlaceChange": "refuse"})
    refused = _put_location(ml, SUB_DEV, "rg-ml-dev")
    assert refused.status_code == 400 and "Unregister" in refused.json()["error"]["message"]


def test_filling_empty_location_fields_is_accepted_even_when_changes_are_refused(ml, armsim):
    assert _put_location(ml, "", "").status_code == 200  # the shape a move leaves (set here by hand)
    armsim.control("POST", "/_sim/settings", {"datastoreInPlaceChange": "refuse"})
    assert _put_location(ml, SUB_DEV, "rg-ml-dev").status_code == 200  # "Update authentication"
    assert _put_location(ml, SUB_DEV, "rg-other").status_code == 400  # a change of a filled location


def test_bulk_jobs_and_page_sizes(ml, armsim):
    armsim.control("POST", "/_sim/settings", {"pageSizes": {"jobs": 500}})
    added = armsim.control("POST", "/_sim/jobs", {"workspaceId": ws_id("ws-quiet"), "count": 1200})
    assert added["added"] == 1200
    page = call(ml, "GET", ws_id("ws-quiet") + "/jobs").json()
    assert len(page["value"]) == 500 and page["nextLink"]
