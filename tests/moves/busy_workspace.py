"""A busy workspace built through ARM (the simulator's LROs): a compute instance, a cluster, an online endpoint
with two deployments at 80/20. Shared by the quiesce scenario and dev host tests."""

from __future__ import annotations

from typing import Any

INSTANCE, CLUSTER, ENDPOINT = "ci-alice", "cpu-cluster", "ep-score"
CLUSTER_PASSWORD = "Cl4ster-Pa55word-never-stored"
SPLIT = {"blue": 80, "green": 20}
OWNER = {"objectId": "5f0e7a1c-3b1d-4c2e-9f8a-0b1c2d3e4f50", "tenantId": "11111111-1111-4111-8111-111111111111"}


def definitions(workspace_id: str, location: str = "westeurope") -> list[tuple[str, dict[str, Any]]]:
    """(relative path, body) in creation order; the deployments name a model of the workspace by its ARM id."""
    instance = {
        "location": location,
        "properties": {"computeType": "ComputeInstance", "description": "Alice's notebook VM", "properties": {
            "vmSize": "STANDARD_DS3_V2", "idleTimeBeforeShutdown": "PT30M",
            "personalComputeInstanceSettings": {"assignedUser": OWNER},
            "setupScripts": {"scripts": {"creationScript": {"scriptSource": "workspaceStorage",
                                                            "scriptData": "setup/install.sh"}}},
            "schedules": {"computeStartStop": [{"action": "Stop", "triggerType": "Cron", "status": "Enabled",
                                                "cron": {"expression": "0 19 * * *", "timeZone": "UTC"}}]},
        }},
    }
    cluster = {
        "location": location, "identity": {"type": "SystemAssigned"},
        "properties": {"computeType": "AmlCompute", "properties": {
            "vmSize": "STANDARD_D2_V2", "vmPriority": "LowPriority",
            "scaleSettings": {"minNodeCount": 1, "maxNodeCount": 6, "nodeIdleTimeBeforeScaleDown": "PT10M"},
            "subnet": {"id": "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-net/providers/"
                              "Microsoft.Network/virtualNetworks/vnet/subnets/training"},
            "userAccountCredentials": {"adminUserName": "azureuser", "adminUserPassword": CLUSTER_PASSWORD},
        }},
    }
    endpoint = {"location": location, "kind": "Managed", "identity": {"type": "SystemAssigned"},
                "properties": {"authMode": "Key", "description": "scoring"}}

    def deployment(name: str) -> dict[str, Any]:
        return {"location": location, "kind": "Managed", "sku": {"name": "Default", "capacity": 2},
                "properties": {"endpointComputeType": "Managed", "model": f"{workspace_id}/models/model-{name}/versions/1",
                               "instanceType": "Standard_DS3_v2", "scaleSettings": {"scaleType": "Default"}}}

    with_split = {**endpoint, "properties": {**endpoint["properties"], "traffic": dict(SPLIT)}}
    return [
        (f"computes/{INSTANCE}", instance),
        (f"computes/{CLUSTER}", cluster),
        (f"onlineEndpoints/{ENDPOINT}", endpoint),
        (f"onlineEndpoints/{ENDPOINT}/deployments/blue", deployment("blue")),
        (f"onlineEndpoints/{ENDPOINT}/deployments/green", deployment("green")),
        (f"onlineEndpoints/{ENDPOINT}", with_split),
    ]


def make_busy(workspace_id: str) -> None:
    """Create the workload through the app's own gateway, following each Azure-AsyncOperation to its end."""
    from shared.azure.clients import get_clients
    from shared.azure.ml_workload import SUCCEEDED, WorkloadGateway

    clients = get_clients()
    gw = WorkloadGateway(clients.arm_pipeline(), arm_endpoint=clients.settings.arm_endpoint)
    for path, body in definitions(workspace_id):
        started = gw.put(f"{workspace_id}/{path}", body)
        for _ in range(20):
            if gw.follow(started.operation, "async").status == SUCCEEDED:
                break
        else:
            raise AssertionError(f"{path} was not created")
