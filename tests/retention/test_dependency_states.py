"""The recovery report tells a soft-deleted Key Vault / storage account / Log Analytics workspace from a purged one."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SUB_DEV, call_http, rg_id
from tests.retention.conftest import arm_soft_delete, delivered, event_body

DEV = rg_id(SUB_DEV, "rg-ml-dev")
KEY_VAULT = f"{DEV}/providers/Microsoft.KeyVault/vaults/kv-ws-quiet"
STORAGE = f"{DEV}/providers/Microsoft.Storage/storageAccounts/stwsquiet"
INSIGHTS = f"{DEV}/providers/Microsoft.Insights/components/appi-ws-quiet"
LOG_ANALYTICS = f"{DEV}/providers/Microsoft.OperationalInsights/workspaces/log-ws-quiet"


def arm(method: str, resource_id: str, api_version: str, body: dict | None = None) -> None:
    from shared.azure.clients import get_clients

    resources = get_clients().resources(SUB_DEV).resources
    if method == "DELETE":
        resources.begin_delete_by_id(resource_id, api_version=api_version, polling_interval=0.05).result()
    else:
        resources.begin_create_or_update_by_id(resource_id, api_version=api_version, parameters=body,
                                               polling_interval=0.05).result()


def report_after_delete(functions) -> dict:
    from datetime import datetime, timezone

    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    assert call_http(functions, "inventory_backfill", method="POST", body={"subscriptionIds": [SUB_DEV]}).status_code == 200
    arm_soft_delete("ws-quiet")
    now = datetime.now(timezone.utc)
    RetentionEvents(get_clients(), get_settings()).handle(delivered(event_body("delete", "ws-quiet", at=now)), now=now)
    return report_now(functions)


def report_now(functions) -> dict:
    route = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}
    return json.loads(call_http(functions, "retention_get", route_params=route).get_body())["recovery"]


def by_role(recovery: dict) -> dict[str, dict]:
    return {d["role"]: d for d in recovery["dependencies"]}


@pytest.mark.parametrize("resource_id, api_version, role", [(KEY_VAULT, "2024-11-01", "keyVault"),
                                                            (STORAGE, "2025-01-01", "storageAccount")])
def test_soft_deleted_then_purged_dependency(topic_env, sim, functions, resource_id, api_version, role):
    recovery = report_after_delete(functions)
    assert by_role(recovery)[role]["status"] == "exists"
    arm("DELETE", resource_id, api_version)

    soft = by_role(report_now(functions))[role]
    assert soft["status"] == "soft-deleted" and "first" in soft["action"]
    assert ("az keyvault recover" if role == "keyVault" else "Restore deleted account") in soft["action"]
    assert report_now(functions)["recoverFirst"] == [role]

    sim.control("POST", "deleted/purge", json={"id": resource_id})
    recovery = report_now(functions)
    purged = by_role(recovery)[role]
    assert purged["status"] == "purged" and "cannot be recovered" in purged["action"]
    assert recovery["purged"] == [role] and recovery["recoverFirst"] == [] and recovery["recoverable"] is False


def test_application_insights_log_analytics_workspace_soft_deleted_then_purged(topic_env, sim, functions):
    arm("PUT", LOG_ANALYTICS, "2025-07-01", {"location": "westeurope"})
    arm("PUT", INSIGHTS, "2020-02-02",
        {"location": "westeurope", "kind": "web", "properties": {"WorkspaceResourceId": LOG_ANALYTICS}})
    recovery = report_after_delete(functions)
    assert "logAnalyticsWorkspace" not in by_role(recovery)
    arm("DELETE", LOG_ANALYTICS, "2025-07-01")
    workspace = by_role(report_now(functions))["logAnalyticsWorkspace"]
    assert workspace["status"] == "soft-deleted" and "same name" in workspace["action"]
    sim.control("POST", "deleted/purge", json={"id": LOG_ANALYTICS})
    assert by_role(report_now(functions))["logAnalyticsWorkspace"]["status"] == "purged"


def test_deleted_application_insights_says_it_has_no_soft_delete(topic_env, sim, functions):
    report_after_delete(functions)
    arm("DELETE", INSIGHTS, "2020-02-02")
    insights = by_role(report_now(functions))["applicationInsights"]
    assert insights["status"] == "deleted" and "no soft delete" in insights["action"]


def test_a_failed_deleted_list_read_reports_unknown_not_purged(topic_env, sim, functions):
    report_after_delete(functions)  # topic_env: one attempt per ARM call, so the fault shows at once
    arm("DELETE", KEY_VAULT, "2024-11-01")
    sim.control("POST", "faults", json={"path": "Microsoft.KeyVault/deletedVaults", "kind": "error", "status": 500,
                                        "count": 50})
    vault = by_role(report_now(functions))["keyVault"]
    assert vault["status"] == "unknown" and "500" in vault["detail"]
