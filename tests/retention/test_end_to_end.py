"""End to end with the simulator: a real DELETE through the SDK, its event via a webhook, the row, alert and report."""

from __future__ import annotations

import json

import pytest

from shared.retention.ledger import LedgerState
from tests.conftest import SUB_DEV, SUB_PROD, call_http, ws_id
from tests.retention.conftest import topic_events, wait_for

KEY_VAULT = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev/providers/Microsoft.KeyVault/vaults/kv-ws-quiet"


def ledger_get(name: str):
    from shared.azure import tables
    from shared.azure.clients import get_clients
    from shared.retention.ledger import RetentionLedger

    return RetentionLedger(tables.table(get_clients().tables(), tables.RETENTION)).get(SUB_DEV, "rg-ml-dev", name)


def arm_delete(resource_id: str, api_version: str) -> None:
    from shared.azure.clients import get_clients

    sub = resource_id.split("/")[2]
    resources = get_clients().resources(sub).resources
    resources.begin_delete_by_id(resource_id, api_version=api_version, polling_interval=0.05).result()


def test_deleted_workspace_reaches_the_ledger_alerts_and_reports_its_dependencies(topic_env, sim, functions, webhook):
    backfill = call_http(functions, "inventory_backfill", method="POST", body=None)
    assert backfill.status_code == 200, backfill.get_body()
    counts = json.loads(backfill.get_body())
    assert counts["failedSubscriptions"] == 0 and counts["recorded"] == counts["workspaces"] >= 9
    assert [s["subscriptionId"] for s in counts["subscriptions"]] == [SUB_DEV, SUB_PROD]

    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url})
    arm_delete(KEY_VAULT, "2023-07-01")  # its event is acknowledged and ignored
    arm_delete(ws_id("ws-quiet"), "2025-09-01")  # the workspace: soft delete (LRO through the SDK pipeline)

    row = wait_for(lambda: ledger_get("ws-quiet"), what="the ledger row")
    assert row.state is LedgerState.SOFT_DELETED and row.workspace_id.lower() == ws_id("ws-quiet").lower()
    assert row.deleted_by and row.correlation_id and (row.purge_after - row.deleted_at).days == 14
    # (the backfill learned the scenario's soft-deleted ws-twin from the Activity Log: its alert is not this one)
    alert = wait_for(lambda: [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Workspace.SoftDeleted"
                              and e["subject"].lower() == ws_id("ws-quiet").lower()], what="the soft-delete alert")[0]
    assert alert["subject"].lower() == ws_id("ws-quiet").lower() and alert["source"] == "/aml-lifecycle"
    assert not webhook.failures

    route = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}
    report = json.loads(call_http(functions, "retention_get", route_params=route).get_body())
    assert report["state"] == "SoftDeleted"
    recovery = report["recovery"]
    status = {d["role"]: d["status"] for d in recovery["dependencies"]}
    assert status == {"resourceGroup": "exists", "keyVault": "soft-deleted", "storageAccount": "exists",
                      "applicationInsights": "exists", "containerRegistry": "exists"}
    assert recovery["recoverable"] is False and recovery["blockedBy"] == ["keyVault"]
    assert recovery["recoverFirst"] == ["keyVault"] and recovery["purged"] == []
    assert [s["role"] for s in recovery["recoveryOrder"]] == [
        "resourceGroup", "keyVault", "storageAccount", "applicationInsights", "containerRegistry", "workspace"]
    assert any("role assignments" in item for item in recovery["notRestored"])


def test_cloud_events_subscription_purge_is_a_permanent_delete(topic_env, sim, functions, webhook):
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url, "schema": "CloudEventSchemaV1_0"})
    from shared.azure.clients import get_clients

    # forceToPurge rides on the request's query string; the event's data.httpRequest.url carries it
    get_clients().resources(SUB_DEV).resources.begin_delete_by_id(
        ws_id("ws-online"), api_version="2025-09-01", params={"forceToPurge": "true"}, polling_interval=0.05).result()
    row = wait_for(lambda: ledger_get("ws-online"), what="the ledger row", timeout=30)
    assert row.state is LedgerState.PERMANENTLY_DELETED
    assert all(e["specversion"] == "1.0" for e in webhook.received)


@pytest.mark.parametrize("body, target", [({"subscriptionIds": ["nope"]}, "subscriptionIds[0]"),
                                          ({"subscriptionIds": []}, "subscriptionIds"),
                                          ({"subs": []}, "subs")])
def test_backfill_rejects_bad_bodies_naming_the_field(topic_env, functions, body, target):
    response = call_http(functions, "inventory_backfill", method="POST", body=body)
    assert response.status_code == 400
    assert json.loads(response.get_body())["error"]["target"] == target


def inventory_get(name: str):
    from shared.azure import tables
    from shared.azure.clients import get_clients
    from shared.retention.inventory import Inventory

    return Inventory(tables.table(get_clients().tables(), tables.INVENTORY)).get(SUB_DEV, "rg-ml-dev", name)


def test_a_recovery_that_emits_a_write_event_marks_the_row_recovered_and_reads_the_workspace(topic_env, sim, functions,
                                                                                              webhook):
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url})
    arm_delete(ws_id("ws-batch"), "2025-09-01")
    wait_for(lambda: ledger_get("ws-batch"), what="the soft-delete row")
    # a portal recover (no REST operation is documented); this variant emits a workspaces/write event
    sim.control("POST", "workspaces/recover", json={"id": ws_id("ws-batch"), "emit": "write"})
    row = wait_for(lambda: (r := ledger_get("ws-batch")) and r.state is LedgerState.RECOVERED and r,
                   what="the recovered row")
    assert row.deleted_at < row.last_event_time
    known = wait_for(lambda: inventory_get("ws-batch"), what="the inventory row")
    assert known.read_error is None and known.location == "westeurope"
    assert set(known.dependencies) >= {"keyVault", "storageAccount", "applicationInsights"}
    assert not webhook.failures


def test_a_dependency_check_that_fails_reports_unknown_not_deleted(topic_env, sim, functions, webhook):
    backfill = call_http(functions, "inventory_backfill", method="POST", body={"subscriptionIds": [SUB_DEV]})
    assert backfill.status_code == 200
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url})
    arm_delete(ws_id("ws-quiet"), "2025-09-01")
    wait_for(lambda: ledger_get("ws-quiet"), what="the ledger row")
    sim.control("POST", "faults", json={"path": "Microsoft.KeyVault/vaults/kv-ws-quiet", "kind": "error", "status": 500,
                                        "count": 20})
    route = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}
    recovery = json.loads(call_http(functions, "retention_get", route_params=route).get_body())["recovery"]
    key_vault = next(d for d in recovery["dependencies"] if d["role"] == "keyVault")
    assert key_vault["status"] == "unknown" and "500" in key_vault["detail"]
    assert recovery["recoverable"] is False and recovery["blockedBy"] == ["keyVault"]


def test_a_deleted_resource_group_records_its_workspaces_from_the_group_event_alone(topic_env, sim, functions,
                                                                                    webhook):
    from shared.azure.clients import get_clients
    from tests.retention.conftest import ledger_rows

    backfill = json.loads(call_http(functions, "inventory_backfill", method="POST", body=None).get_body())
    [dev] = [s for s in backfill["subscriptions"] if s["subscriptionId"] == SUB_DEV]
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url})
    # The simulator emits the group's event only, as ARM documents one event per management request.
    get_clients().resources(SUB_DEV).resource_groups.begin_delete("rg-ml-dev", polling_interval=0.05).result()

    def rows() -> dict | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            found = {k: v for k, v in ledger_rows(topic_env["AML_LIFECYCLE_TABLES"]).items() if k[0] == SUB_DEV}
        except ResourceNotFoundError:  # the ledger table is created with its first row
            return None
        return found if len(found) == dev["recorded"] else None

    recorded = wait_for(rows, what="a ledger row for each workspace of the group")
    assert all(k[0] == SUB_DEV and k[1].startswith("rg-ml-dev|") for k in recorded)
    assert all("resource group rg-ml-dev" in r["Reason"] for r in recorded.values())
    soft = sorted(r["WorkspaceId"].lower() for r in recorded.values() if r["State"] == "SoftDeleted")
    assert soft and {r["State"] for r in recorded.values()} <= {"SoftDeleted", "PermanentlyDeleted"}
    alerted = wait_for(lambda: sorted(e["subject"].lower() for e in topic_events(sim)
                                      if e["type"] == "AmlLifecycle.Workspace.SoftDeleted"
                                      and SUB_DEV in e["subject"]) or None,
                       what="the soft-delete alerts")
    assert alerted == soft and not webhook.failures


def test_a_user_assigned_only_workspace_created_and_deleted_through_arm_is_recorded_permanently_deleted(
        topic_env, sim, functions, webhook):
    """concept-soft-delete: no soft delete for a workspace with only user-assigned identities. The simulator creates it
    with the `identity` asked for and deletes it outright; the app learns the identity from its write (the inventory's
    ARM read) and records the delete as permanent: no SoftDeleted alert, the name free."""
    from shared.azure.clients import get_clients

    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url})
    uami = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ml"
    workspace = ws_id("ws-uai")
    get_clients().resources(SUB_DEV).resources.begin_create_or_update_by_id(
        workspace, api_version="2025-09-01", polling_interval=0.05,
        parameters={"location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}}},
    ).result()
    from shared.azure import tables
    from shared.retention.inventory import Inventory

    inventory = Inventory(tables.table(get_clients().tables(), tables.INVENTORY))
    known = wait_for(lambda: (row := inventory.get(SUB_DEV, "rg-ml-dev", "ws-uai")) and row.identity_type and row,
                     what="the write's ARM read in the inventory")
    assert known.identity_type == "UserAssigned"  # what ARM (the simulator) answered the app's read
    arm_delete(workspace, "2025-09-01")
    row = wait_for(lambda: ledger_get("ws-uai"), what="the ledger row")
    assert row.state is LedgerState.PERMANENTLY_DELETED and "user-assigned" in (row.reason or "")
    assert not [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Workspace.SoftDeleted"]
    assert not webhook.failures
    get_clients().resources(SUB_DEV).resources.begin_create_or_update_by_id(  # the name is free at once in ARM too
        ws_id("ws-uai", rg="rg-ml-dev-2"), api_version="2025-09-01", polling_interval=0.05,
        parameters={"location": "westeurope"}).result()
