"""validateMoveResources / moveResources LROs through the real azure-mgmt-resource client."""
from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError

from .conftest import ML_API, SUB_DEV, SUB_PARTNER, SUB_PROD, SUB_SANDBOX, call, dep_id, rg_id, ws_id

PROD = rg_id(SUB_PROD, "rg-ml-prod")


def validate(resources, ids, target):
    return resources.resources.begin_validate_move_resources(
        "rg-ml-dev", {"resources": ids, "targetResourceGroup": target}).result()


def codes(err) -> list[str]:
    return sorted(d.code for d in err.error.details)


def test_validate_success_polls_location_until_204(resources, simulator):
    assert validate(resources, [ws_id("ws-quiet")], PROD) is None
    log = [(e["method"], e["status"]) for e in simulator.control("GET", "/_sim/requests")]
    assert log == [("POST", 202), ("GET", 202), ("GET", 202), ("GET", 204)]


def test_validation_failure_is_409_with_per_resource_details(resources):
    with pytest.raises(HttpResponseError) as err:
        validate(resources, [ws_id("ws-computes"), ws_id("ws-online"), ws_id("ws-batch"), ws_id("ws-jobs"),
                             ws_id("ws-cmk"), ws_id("ws-databricks")], PROD)
    assert err.value.status_code == 409
    assert err.value.error.code == "ResourceMoveProviderValidationFailed"
    by_target = {d.target.rsplit("/", 1)[-1]: d.code for d in err.value.error.details}
    assert by_target == {"ws-computes": "WorkspaceHasComputeResources", "ws-online": "WorkspaceHasOnlineEndpoints",
                         "ws-batch": "WorkspaceHasBatchEndpoints", "ws-jobs": "WorkspaceHasActiveJobs",
                         "ws-cmk": "WorkspaceCmkEncryptionEnabled", "ws-databricks": "WorkspaceLinkedToDatabricks"}
    assert "job-running" in next(d.message for d in err.value.error.details if d.code == "WorkspaceHasActiveJobs")


@pytest.mark.parametrize("target, expected", [
    (rg_id(SUB_SANDBOX, "rg-sandbox"), ["MissingSubscriptionRegistration"]),
    (rg_id(SUB_PROD, "rg-ml-prod-us"), ["WorkspaceMoveRegionMismatch"]),
    (rg_id(SUB_PROD, "rg-missing"), ["ResourceGroupNotFound"]),
])
def test_target_side_reasons(resources, target, expected):
    with pytest.raises(HttpResponseError) as err:
        validate(resources, [ws_id("ws-quiet")], target)
    assert codes(err.value) == expected
    if expected == ["MissingSubscriptionRegistration"]:
        message = err.value.error.details[0].message
        assert "Microsoft.MachineLearningServices" in message and "Microsoft.KeyVault" in message


def test_soft_deleted_name_in_target_blocks_the_move(resources):
    with pytest.raises(HttpResponseError) as err:
        validate(resources, [ws_id("ws-twin")], PROD)
    assert codes(err.value) == ["BadRequest"]  # the create's documented answer; validation's own is undocumented
    assert "Soft-deleted workspace exists. Please purge or recover it." in err.value.error.details[0].message


@pytest.mark.parametrize("body, code", [
    ({"resources": [ws_id("ws-quiet")], "targetResourceGroup": "/subscriptions/x/notagroup"}, "InvalidTargetResourceGroup"),
    ({"resources": [ws_id("ws-x", SUB_PROD, "rg-ml-prod")], "targetResourceGroup": rg_id(SUB_DEV, "rg-ml-dev-2")},
     "ResourceNotInSourceResourceGroup"),
    ({"resources": [], "targetResourceGroup": rg_id(SUB_DEV, "rg-ml-dev-2")}, "InvalidResourceMoveRequest"),
])
def test_bad_requests_are_400(resources, body, code):
    with pytest.raises(HttpResponseError) as err:
        resources.resources.begin_validate_move_resources("rg-ml-dev", body).result()
    assert err.value.status_code == 400 and err.value.error.code == code


def test_throttled_request_is_retried_after_retry_after(resources, simulator):
    simulator.control("POST", "/_sim/faults", {"method": "POST", "path": "/validateMoveResources$", "kind": "throttle",
                                               "retryAfter": 1, "count": 1})
    started = time.monotonic()
    validate(resources, [ws_id("ws-quiet")], PROD)
    assert time.monotonic() - started >= 1.0
    log = [(e["method"], e["status"]) for e in simulator.control("GET", "/_sim/requests")]
    assert log[:2] == [("POST", 429), ("POST", 202)]
    assert log[-1] == ("GET", 204)


def test_5xx_on_a_poll_is_retried_then_succeeds(resources, simulator):
    simulator.control("POST", "/_sim/faults", {"method": "GET", "path": "/operationresults/", "kind": "error",
                                               "status": 503, "count": 1})
    validate(resources, [ws_id("ws-quiet")], PROD)
    statuses = [e["status"] for e in simulator.control("GET", "/_sim/requests")]
    assert statuses == [202, 503, 202, 202, 204]


def test_move_changes_ids_and_has_the_documented_after_effects(resources, ml, simulator):
    moved = [ws_id("ws-quiet"), dep_id("st", "stwsquiet"), dep_id("kv", "kv-ws-quiet"), dep_id("appi", "appi-ws-quiet"),
             dep_id("cr", "crwsquiet"), dep_id("st", "sttrainingdata")]
    # The SDK polls in a background thread; hold its first poll for a while to look at the locks meanwhile.
    simulator.control("POST", "/_sim/faults", {"method": "GET", "path": "/operationresults/", "kind": "latency",
                                               "latencyMs": 1500})
    poller = resources.resources.begin_move_resources("rg-ml-dev", {"resources": moved, "targetResourceGroup": PROD})
    # While the move runs both groups are locked for writes and deletes.
    with pytest.raises(HttpResponseError) as err:
        resources.resource_groups.create_or_update("rg-ml-dev", {"location": "westeurope", "tags": {"x": "y"}})
    assert err.value.status_code == 409 and err.value.error.code == "ResourceGroupBeingMoved"
    with pytest.raises(HttpResponseError) as err:
        resources.resources.begin_delete_by_id(dep_id("st", "stwstwinprod", SUB_PROD, "rg-ml-prod"), api_version="2025-01-01").result()
    assert err.value.error.code == "ResourceGroupBeingMoved"
    with pytest.raises(HttpResponseError) as err:
        resources.resources.begin_move_resources("rg-ml-dev", {"resources": [ws_id("ws-twin")],
                                                               "targetResourceGroup": rg_id(SUB_DEV, "rg-ml-dev-2")})
    assert err.value.status_code == 409
    assert resources.resource_groups.get("rg-ml-dev").name == "rg-ml-dev"  # reads still work
    poller.result()

    new_ws = ws_id("ws-quiet", SUB_PROD, "rg-ml-prod")
    assert resources.resources.check_existence_by_id(ws_id("ws-quiet"), api_version=ML_API) is False
    ws = call(ml, "GET", new_ws).json()
    assert ws["id"] == new_ws
    assert ws["properties"]["storageAccount"] == dep_id("st", "stwsquiet", SUB_PROD, "rg-ml-prod")
    # Private endpoint connection re-created as Pending, same private endpoint.
    connections = ws["properties"]["privateEndpointConnections"]
    assert [(c["name"], c["properties"]["privateLinkServiceConnectionState"]["status"],
             c["properties"]["privateEndpoint"]["id"]) for c in connections] == [
        ("pec-ws-quiet", "Pending", dep_id("pe", "pe-ws-quiet"))]
    # Non-default datastore: empty subscription / group (the move page's common case); ids of children followed.
    store = call(ml, "GET", new_ws + "/datastores/trainingdata").json()
    assert store["id"] == new_ws + "/datastores/trainingdata"
    assert (store["properties"]["subscriptionId"], store["properties"]["resourceGroup"]) == ("", "")
    # Role assignments at workspace scope were not moved.
    from azure.mgmt.authorization import AuthorizationManagementClient

    from .conftest import StaticTokenCredential
    authz = AuthorizationManagementClient(StaticTokenCredential(simulator.token), SUB_PROD, base_url=simulator.url,
                                          credential_scopes=[simulator.url + "/.default"], connection_verify=simulator.ca_bundle)
    assert list(authz.role_assignments.list_for_scope(new_ws.lstrip("/"), filter="atScope()")) == []
    # Locks are released.
    resources.resource_groups.create_or_update("rg-ml-dev", {"location": "westeurope", "tags": {"x": "y"}})


def test_private_workspace_loses_one_connection_and_gains_a_foreign_one(resources, ml):
    resources.resources.begin_move_resources("rg-ml-dev", {"resources": [ws_id("ws-private")],
                                                           "targetResourceGroup": rg_id(SUB_DEV, "rg-ml-dev-2")}).result()
    new_ws = ws_id("ws-private", SUB_DEV, "rg-ml-dev-2")
    listed = call(ml, "GET", new_ws + "/privateEndpointConnections").json()["value"]
    assert sorted((c["name"], c["properties"]["privateLinkServiceConnectionState"]["status"]) for c in listed) == [
        ("pec-foreign-partner", "Pending"), ("pec-ws-private-1", "Pending")]
    approve = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}
    response = call(ml, "PUT", f"{new_ws}/privateEndpointConnections/pec-ws-private-1", approve)
    assert response.status_code == 200
    assert response.json()["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"


def test_injected_move_failure_moves_nothing(resources, simulator):
    simulator.control("POST", "/_sim/moves/fail", {"count": 1, "code": "ResourceMoveFailed"})
    with pytest.raises(HttpResponseError) as err:
        resources.resources.begin_move_resources("rg-ml-dev", {"resources": [ws_id("ws-quiet")],
                                                               "targetResourceGroup": PROD}).result()
    assert err.value.error.code == "ResourceMoveFailed"
    assert err.value.error.details[0].target == ws_id("ws-quiet")
    assert resources.resources.check_existence_by_id(ws_id("ws-quiet"), api_version=ML_API) is True
    # the next move is not affected, and the groups are unlocked
    resources.resources.begin_move_resources("rg-ml-dev", {"resources": [ws_id("ws-quiet")],
                                                           "targetResourceGroup": PROD}).result()
    assert resources.resources.check_existence_by_id(ws_id("ws-quiet", SUB_PROD, "rg-ml-prod"), api_version=ML_API)


@pytest.mark.parametrize("variant, status, code", [(None, 403, "LinkedAuthorizationFailed"),
                                                    ("tokenTenant", 401, "InvalidAuthenticationTokenTenant")])
def test_a_cross_tenant_target_answers_each_variant(resources, simulator, variant, status, code):
    """Azure documents no error for a cross-tenant move: each plausible answer is a variant (README)."""
    if variant:
        simulator.control("POST", "/_sim/settings", {"crossTenantMove": variant})
    body = {"resources": [ws_id("ws-quiet")], "targetResourceGroup": rg_id(SUB_PARTNER, "rg-partner")}
    with pytest.raises(HttpResponseError) as err:
        resources.resources.begin_validate_move_resources("rg-ml-dev", body).result()
    assert (err.value.status_code, err.value.error.code) == (status, code)
    assert "CrossTenantMoveNotSupported" not in str(err.value)
