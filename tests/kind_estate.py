"""Workspaces of every kind, created in the simulator through ARM PUTs (Workspaces_CreateOrUpdate and
ServerlessEndpoints_CreateOrUpdate, 2025-09-01): a hub with two projects, a feature store, a workspace with a
managed virtual network and one with a serverless endpoint, all in rg-ml-dev of the dev subscription."""

from __future__ import annotations

from typing import Any

import requests

from tests.conftest import ws_id

HUB, PROJECTS, FEATURE_STORE = "hub-ml", ("proj-a", "proj-b"), "fs-ml"
MANAGED, SERVERLESS = "ws-mvnet", "ws-maas"
API = "?api-version=2025-09-01"


def put(sim: Any, token: str, resource_id: str, body: dict) -> dict:
    response = requests.put(f"{sim.url}{resource_id}{API}", json=body, verify=sim.ca_bundle, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def workspace(sim: Any, token: str, name: str, kind: str = "Default", **properties: Any) -> dict:
    return put(sim, token, ws_id(name), {"location": "westeurope", "kind": kind, "properties": properties})


def build(sim: Any, token: str) -> dict[str, str]:
    """Create the estate; returns the ids by name."""
    workspace(sim, token, HUB, "Hub")
    for project in PROJECTS:
        workspace(sim, token, project, "Project", hubResourceId=ws_id(HUB))
    workspace(sim, token, FEATURE_STORE, "FeatureStore", featureStoreSettings={"offlineStoreConnectionName": "off"})
    workspace(sim, token, MANAGED, managedNetwork={
        "isolationMode": "AllowOnlyApprovedOutbound",
        "outboundRules": {"pypi": {"type": "FQDN", "destination": "pypi.org", "category": "UserDefined"}}})
    workspace(sim, token, SERVERLESS)
    put(sim, token, f"{ws_id(SERVERLESS)}/serverlessEndpoints/phi-4",
        {"location": "westeurope", "sku": {"name": "Consumption"},
         "properties": {"modelSettings": {"modelId": "azureml://registries/azureml-meta/models/Phi-4"}}})
    return {name: ws_id(name) for name in (HUB, *PROJECTS, FEATURE_STORE, MANAGED, SERVERLESS)}



