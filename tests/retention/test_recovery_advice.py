"""One recovery instruction, as concept-soft-delete gives it: the same in the alert, the API and docs/retention.md."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SUB_DEV, call_http, ws_id
from tests.retention.conftest import recent, soft_delete, topic_events

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "retention.md").read_text(encoding="utf-8")
ROUTE = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}


def test_alert_api_and_docs_give_the_same_advice_that_azure_accepts(topic_env, sim, functions):
    soft_delete("ws-quiet", recent())
    [alert] = [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Workspace.SoftDeleted"]
    options = alert["data"]["recoveryOptions"]
    names = json.loads(call_http(functions, "name_check", route_params=ROUTE).get_body())
    row = json.loads(call_http(functions, "retention_get", route_params=ROUTE).get_body())
    assert names["options"] == options
    assert row["recovery"]["recoveryOrder"][-1]["action"] == options[0]["how"]
    recover, purge = (o["how"] for o in options)
    assert "Recently deleted workspaces" in recover and "dependent resources first" in recover
    assert "There is no SDK or CLI command to recover a workspace" in recover
    assert "same name, resource group and region" not in recover  # what Azure refuses
    assert f"DELETE {ws_id('ws-quiet')}?api-version=2025-09-01&forceToPurge=true" in purge
    for phrase in ("Recently deleted workspaces", "There is no SDK or CLI command to recover a workspace",
                   "forceToPurge=true", "dependent resources first"):
        assert phrase in DOCS, phrase


def test_a_workspace_whose_resource_group_is_gone_is_blocked_by_that_group(topic_env, sim, functions):
    from shared.azure.clients import get_clients

    soft_delete("ws-quiet", recent())
    get_clients().resources(SUB_DEV).resource_groups.begin_delete("rg-ml-dev", polling_interval=0.05).result()
    recovery = json.loads(call_http(functions, "retention_get", route_params=ROUTE).get_body())["recovery"]
    assert "resourceGroup:rg-ml-dev" in recovery["blockedBy"] and recovery["recoverable"] is False
    first = recovery["recoveryOrder"][0]
    assert first["role"] == "resourceGroup" and first["status"] == "deleted" and "Re-create the resource group" in \
        first["action"]
    assert "re-create its resource group rg-ml-dev" in recovery["recoveryOrder"][-1]["action"]
