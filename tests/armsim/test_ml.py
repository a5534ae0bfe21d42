"""Microsoft.MachineLearningServices through an ARMPipelineClient: soft delete, purge, recover, children."""
from __future__ import annotations

from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.core.polling.arm_polling import ARMPolling

from .conftest import ML_API, SUB_DEV, SUB_PROD, call, dep_id, ws_id

HELD = "Soft-deleted workspace exists. Please purge or recover it. https://aka.ms/wsoftdelete"  # CanadaPubSecALZ#380


def begin(ml, method: str, path: str, **params: str) -> LROPoller:
    """Start an ML LRO the way a generated client does and poll it with ARMPolling."""
    request = HttpRequest(method, ml.format_url(path), params={"api-version": ML_API, **params})
    pipeline_response: PipelineResponse = ml._pipeline.run(request._to_pipeline_transport_request() if hasattr(
        request, "_to_pipeline_transport_request") else request)
    if pipeline_response.http_response.status_code not in (200, 202, 204):
        raise HttpResponseError(response=pipeline_response.http_response)
    return LROPoller(ml, pipeline_response, lambda _r: None,
                     ARMPolling(0, lro_options={"final-state-via": "location"}))


def test_soft_delete_hides_the_workspace_and_blocks_its_name(ml):
    poller = begin(ml, "DELETE", ws_id("ws-twin"))
    poller.result()
    assert call(ml, "GET", ws_id("ws-twin")).status_code == 404
    listed = call(ml, "GET", f"/subscriptions/{SUB_DEV}/providers/Microsoft.MachineLearningServices/workspaces").json()
    assert "ws-twin" not in [w["name"] for w in listed["value"]]
    refused = call(ml, "GET", ws_id("ws-twin") + "/datastores")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "WorkspaceSoftDeleted"
    blocked = call(ml, "PUT", ws_id("ws-twin", SUB_DEV, "rg-ml-dev-2"), {"location": "westeurope", "properties": {}})
    assert (blocked.status_code, blocked.json()["error"]) == (400, {"code": "BadRequest", "message": HELD})


def test_seeded_soft_deleted_twin_blocks_prod_and_is_recovered_only_through_the_control_api(ml, simulator):
    prod_twin = ws_id("ws-twin", SUB_PROD, "rg-ml-prod")
    assert call(ml, "GET", prod_twin).status_code == 404
    other = call(ml, "PUT", ws_id("ws-twin", SUB_PROD, "rg-ml-prod-us"), {"location": "eastus"})
    assert other.status_code == 400
    same = call(ml, "PUT", prod_twin, {"location": "westeurope", "properties": {}})
    assert same.status_code == 400, "a PUT never recovers an Azure ML workspace (that is Log Analytics' contract)"
    assert same.json()["error"]["message"] == HELD
    assert simulator.control("POST", "/_sim/workspaces/recover", {"id": prod_twin}) == {
        "recovered": prod_twin, "emitted": "none"}
    body = call(ml, "GET", prod_twin).json()
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert [d["name"] for d in call(ml, "GET", prod_twin + "/datastores").json()["value"]] == ["workspaceblobstore"]


def test_recover_needs_the_dependencies_back(ml, resources, simulator):
    import urllib.error

    begin(ml, "DELETE", ws_id("ws-twin")).result()
    resources.resources.begin_delete_by_id(dep_id("kv", "kv-ws-twin"), api_version="2024-11-01").result()
    try:
        simulator.control("POST", "/_sim/workspaces/recover", {"id": ws_id("ws-twin")})
        raise AssertionError("recovered without its Key Vault")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and dep_id("kv", "kv-ws-twin") in exc.read().decode()
    resources.resources.begin_create_or_update_by_id(dep_id("kv", "kv-ws-twin"), api_version="2024-11-01",
                                                     parameters={"location": "westeurope"}).result()
    simulator.control("POST", "/_sim/workspaces/recover", {"id": ws_id("ws-twin")})
    assert call(ml, "GET", ws_id("ws-twin")).status_code == 200


def test_purge_of_live_and_of_soft_deleted_workspaces(ml, simulator):
    begin(ml, "DELETE", ws_id("ws-quiet"), forceToPurge="true").result()
    assert call(ml, "PUT", ws_id("ws-quiet", SUB_DEV, "rg-ml-dev-2"), {"location": "westeurope"}).status_code == 200
    prod_twin = ws_id("ws-twin", SUB_PROD, "rg-ml-prod")
    assert call(ml, "DELETE", prod_twin).status_code == 204  # as GET: not found; no REST purge is documented
    assert call(ml, "PUT", ws_id("ws-twin", SUB_PROD, "rg-ml-prod-us"), {"location": "eastus"}).status_code == 400  # the name is held
    simulator.control("POST", "/_sim/workspaces/purge", {"id": prod_twin})
    created = call(ml, "PUT", ws_id("ws-twin", SUB_PROD, "rg-ml-prod-us"), {"location": "eastus"})
    assert created.status_code == 200


def test_a_re_created_name_gets_a_new_internal_workspace_id(ml, simulator):
    before = call(ml, "GET", ws_id("ws-quiet")).json()["properties"]["workspaceId"]
    begin(ml, "DELETE", ws_id("ws-quiet"), forceToPurge="true").result()
    call(ml, "PUT", ws_id("ws-quiet"), {"location": "westeurope"})
    after = call(ml, "GET", ws_id("ws-quiet")).json()["properties"]["workspaceId"]
    assert before and after and before != after


def test_deleted_vault_account_and_log_analytics_workspace_are_listed_until_purged(ml, resources, simulator):
    kv, st = dep_id("kv", "kv-ws-twin"), dep_id("st", "stwsquiet")
    for rid, version in ((kv, "2024-11-01"), (st, "2025-01-01")):
        resources.resources.begin_delete_by_id(rid, api_version=version).result()
    vaults = call(ml, "GET", f"/subscriptions/{SUB_DEV}/providers/Microsoft.KeyVault/deletedVaults").json()["value"]
    assert [(v["type"], v["properties"]["vaultId"]) for v in vaults] == [("Microsoft.KeyVault/deletedVaults", kv)]
    one = call(ml, "GET", vaults[0]["id"]).json()
    assert one["properties"]["scheduledPurgeDate"] > one["properties"]["deletionDate"]
    accounts = call(ml, "GET", f"/subscriptions/{SUB_DEV}/providers/Microsoft.Storage/deletedAccounts").json()["value"]
    assert [a["properties"]["storageAccountResourceId"] for a in accounts] == [st]
    simulator.control("POST", "/_sim/deleted/purge", {"id": kv})
    assert call(ml, "GET", f"/subscriptions/{SUB_DEV}/providers/Microsoft.KeyVault/deletedVaults").json()["value"] == []


def test_delete_is_an_lro_with_location(ml, simulator):
    response = call(ml, "DELETE", ws_id("ws-quiet"))
    assert response.status_code == 202
    assert "/workspaceOperationsStatus/" in response.headers["Location"]
    assert response.headers["Retry-After"] == "0"
    assert call(ml, "GET", ws_id("ws-quiet")).json()["properties"]["provisioningState"] == "Deleting"


def test_lists_page_with_next_link(ml):
    first = call(ml, "GET", ws_id("ws-jobs") + "/jobs").json()
    assert len(first["value"]) == 2 and "nextLink" in first
    second = ml.send_request(HttpRequest("GET", first["nextLink"])).json()
    assert len(second["value"]) == 1 and "nextLink" not in second
    statuses = {j["name"]: j["properties"]["status"] for j in first["value"] + second["value"]}
    assert statuses == {"job-running": "Running", "job-queued": "Queued", "job-completed": "Completed"}
    computes = call(ml, "GET", ws_id("ws-computes") + "/computes").json()
    assert {c["name"]: c["properties"]["provisioningState"] for c in computes["value"]} == {
        "ci-dev": "Succeeded", "cpu-cluster": "Creating"}
    assert computes["value"][0]["properties"]["properties"]["state"] == "Running"


def test_job_status_can_be_set_by_put(ml, resources):
    updated = call(ml, "PUT", ws_id("ws-jobs") + "/jobs/job-running", {"properties": {"status": "Completed"}})
    assert updated.status_code == 200 and updated.json()["properties"]["status"] == "Completed"
    call(ml, "PUT", ws_id("ws-jobs") + "/jobs/job-queued", {"properties": {"status": "Canceled", "jobType": "Command"}})
    from .test_moves import PROD, validate
    assert validate(resources, [ws_id("ws-jobs")], PROD) is None


def test_datastores_keep_secrets_server_side(ml):
    store = call(ml, "GET", ws_id("ws-quiet") + "/datastores/trainingdata").json()
    assert store["properties"]["credentials"] == {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey"}}
    assert (store["properties"]["subscriptionId"], store["properties"]["resourceGroup"]) == (SUB_DEV, "rg-ml-dev")
    secrets = call(ml, "POST", ws_id("ws-quiet") + "/datastores/trainingdata/listSecrets").json()
    assert secrets == {"secretsType": "AccountKey", "key": "dHJhaW5pbmdkYXRhLWFjY291bnQta2V5"}
    body = {"properties": {**store["properties"], "subscriptionId": SUB_PROD, "resourceGroup": "rg-ml-prod",
                           "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "bmV3"}}}}
    updated = call(ml, "PUT", ws_id("ws-quiet") + "/datastores/trainingdata", body)
    assert updated.status_code == 200 and "key" not in str(updated.json()["properties"]["credentials"]["secrets"])
    assert call(ml, "POST", ws_id("ws-quiet") + "/datastores/trainingdata/listSecrets").json()["key"] == "bmV3"
    created = call(ml, "PUT", ws_id("ws-quiet") + "/datastores/extra", {"properties": {
        "datastoreType": "AzureBlob", "accountName": "stextra", "containerName": "c", "credentials": {"credentialsType": "None"}}})
    assert created.status_code == 201


def test_endpoints_deployments_and_connections(ml):
    endpoints = call(ml, "GET", ws_id("ws-online") + "/onlineEndpoints").json()["value"]
    assert [e["name"] for e in endpoints] == ["ep-scoring"]
    deployments = call(ml, "GET", ws_id("ws-online") + "/onlineEndpoints/ep-scoring/deployments").json()["value"]
    assert [d["name"] for d in deployments] == ["blue"]
    batch = call(ml, "GET", ws_id("ws-batch") + "/batchEndpoints").json()["value"]
    assert [b["name"] for b in batch] == ["be-nightly"]
    begin(ml, "DELETE", ws_id("ws-batch") + "/batchEndpoints/be-nightly").result()
    assert call(ml, "GET", ws_id("ws-batch") + "/batchEndpoints").json()["value"] == []
    connections = call(ml, "GET", ws_id("ws-private") + "/privateEndpointConnections").json()["value"]
    assert all(c["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved" for c in connections)
    ws = call(ml, "GET", ws_id("ws-cmk")).json()
    assert ws["properties"]["encryption"]["status"] == "Enabled"
    assert ws["properties"]["encryption"]["keyVaultProperties"]["keyVaultArmId"] == dep_id("kv", "kv-ws-cmk")


def test_role_assignments_and_databricks_links(simulator, credential, client_kwargs):
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.databricks import AzureDatabricksManagementClient
    authz = AuthorizationManagementClient(credential, SUB_DEV, **client_kwargs)
    at_ws = list(authz.role_assignments.list_for_scope(ws_id("ws-quiet").lstrip("/"), filter="atScope()"))
    assert len(at_ws) == 2  # the workspace assignment plus the inherited subscription Owner
    assert {a.scope for a in at_ws} == {ws_id("ws-quiet"), f"/subscriptions/{SUB_DEV}"}
    dbx = AzureDatabricksManagementClient(credential, SUB_DEV, **client_kwargs)
    linked = [w for w in dbx.workspaces.list_by_subscription()]
    assert [w.name for w in linked] == ["dbw-ml"]
    assert linked[0].parameters.aml_workspace_id.value == ws_id("ws-databricks")
    assert dbx.workspaces.get("rg-ml-dev", "dbw-ml").name == "dbw-ml"


def test_a_held_name_fails_the_create_asynchronously_in_the_async_variant(ml, simulator):
    """Azure/ResourceModules#3596: the deployment "reached terminal provisioning state 'Failed'" with the same error."""
    simulator.control("POST", "/_sim/settings", {"heldNameAnswer": "async"})
    begin(ml, "DELETE", ws_id("ws-twin")).result()
    accepted = call(ml, "PUT", ws_id("ws-twin", SUB_DEV, "rg-ml-dev-2"), {"location": "westeurope", "properties": {}})
    assert accepted.status_code == 202
    operation = urlsplit(accepted.headers["Location"]).path
    for _ in range(20):  # the simulator answers 202 `--polls` times, then the outcome
        status = call(ml, "GET", operation)
        if status.status_code != 202:
            break
    assert (status.status_code, status.json()["error"]["code"], status.json()["error"]["message"]) == (
        400, "BadRequest", HELD)
    assert call(ml, "GET", ws_id("ws-twin", SUB_DEV, "rg-ml-dev-2")).status_code == 404  # nothing was created


def test_identity_is_honoured_on_create(ml):
    uami = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ml"
    created = call(ml, "PUT", ws_id("ws-uai", SUB_DEV, "rg-ml-dev"), {
        "location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}},
        "properties": {"primaryUserAssignedIdentity": uami}})
    assert created.status_code == 200, created.text
    identity = call(ml, "GET", ws_id("ws-uai", SUB_DEV, "rg-ml-dev")).json()["identity"]
    assert identity["type"] == "UserAssigned" and "principalId" not in identity
    assert set(identity["userAssignedIdentities"]) == {uami}
    assert set(identity["userAssignedIdentities"][uami]) == {"principalId", "clientId"}
    both = call(ml, "PUT", ws_id("ws-both", SUB_DEV, "rg-ml-dev"), {
        "location": "westeurope", "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uami: {}}}})
    assert both.json()["identity"]["type"] == "SystemAssigned,UserAssigned" and both.json()["identity"]["principalId"]
    missing = call(ml, "PUT", ws_id("ws-bad", SUB_DEV, "rg-ml-dev"), {"location": "westeurope",
                                                                      "identity": {"type": "UserAssigned"}})
    assert missing.status_code == 400 and "userAssignedIdentities" in missing.json()["error"]["message"]


def test_a_user_assigned_only_workspace_is_deleted_not_soft_deleted(ml, simulator):
    """concept-soft-delete: "Soft-deletion and recovery is not supported when a workspace uses only user-assigned
    managed identity": the delete is permanent, the name is free at once, nothing to recover."""
    uami = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ml"
    uai = ws_id("ws-uai", SUB_DEV, "rg-ml-dev")
    spec = {"location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}}}
    assert call(ml, "PUT", uai, spec).status_code == 200
    begin(ml, "DELETE", uai).result()
    assert call(ml, "GET", uai).status_code == 404
    assert call(ml, "PUT", ws_id("ws-uai", SUB_DEV, "rg-ml-dev-2"), {"location": "westeurope"}).status_code == 200
    deleted = [e["data"]["resourceUri"] for e in simulator.control("GET", "/_sim/eventgrid/events")
               if e["eventType"] == "Microsoft.Resources.ResourceDeleteSuccess"]
    assert uai in deleted  # the same delete event as any workspace's
