"""The pre-move inventory of a workspace: what a move disconnects or leaves behind (never a secret)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from shared.azure.arm_ids import ResourceId
from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import Datastore, MlGateway

# Where each datastore type names its account (AzureDatastore.subscriptionId / resourceGroup locate it).
_ACCOUNT_TYPES = {
    "azureblob": "Microsoft.Storage/storageAccounts",
    "azurefile": "Microsoft.Storage/storageAccounts",
    "azuredatalakegen2": "Microsoft.Storage/storageAccounts",
    "azuredatalakegen1": "Microsoft.DataLakeStore/accounts",
}


@dataclass(frozen=True)
class ConnectionInfo:
    name: str
    id: str
    private_endpoint_id: str | None
    status: str


@dataclass(frozen=True)
class DatastoreInfo:
    name: str
    id: str
    datastore_type: str
    account_name: str | None
    subscription_id: str | None
    resource_group: str | None
    credentials_type: str | None

    @classmethod
    def of(cls, datastore: Datastore) -> "DatastoreInfo":
        return cls(
            datastore.name,
            datastore.id,
            datastore.datastore_type,
            datastore.account_name,
            datastore.subscription_id,
            datastore.resource_group,
            datastore.credentials_type,
        )

    @property
    def account_id(self) -> str | None:
        """The ARM id of the storage account the datastore names, when it names one."""
        return account_id(self.datastore_type, self.subscription_id, self.resource_group, self.account_name)


@dataclass(frozen=True)
class RoleAssignmentInfo:
    id: str
    name: str
    scope: str
    principal_id: str
    principal_type: str | None
    role_definition_id: str


@dataclass(frozen=True)
class ChildInfo:
    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class Inventory:
    workspace_id: str
    location: str
    private_endpoints: tuple[ConnectionInfo, ...] = ()
    datastores: tuple[DatastoreInfo, ...] = ()  # non-default only: the default ones are the workspace's own
    role_assignments: tuple[RoleAssignmentInfo, ...] = ()
    computes: tuple[ChildInfo, ...] = ()
    endpoints: tuple[ChildInfo, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """camelCase, like every field of the API (the row's snapshot is shown by GET /api/moves/{moveId})."""
        return {
            "workspaceId": self.workspace_id,
            "location": self.location,
            "privateEndpoints": [_camel(asdict(c)) for c in self.private_endpoints],
            "datastores": [_camel(asdict(d)) for d in self.datastores],
            "roleAssignments": [_camel(asdict(r)) for r in self.role_assignments],
            "computes": [_camel(asdict(c)) for c in self.computes],
            "endpoints": [_camel(asdict(e)) for e in self.endpoints],
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "Inventory":
        """Reads camelCase, and the snake_case rows written before the API used one style."""
        return cls(
            body["workspaceId"],
            body.get("location") or "",
            tuple(ConnectionInfo(**_snake(c)) for c in body.get("privateEndpoints") or ()),
            tuple(DatastoreInfo(**_snake(d)) for d in body.get("datastores") or ()),
            tuple(RoleAssignmentInfo(**_snake(r)) for r in body.get("roleAssignments") or ()),
            tuple(ChildInfo(**_snake(c)) for c in body.get("computes") or ()),
            tuple(ChildInfo(**_snake(e)) for e in body.get("endpoints") or ()),
        )


def _camel(item: dict[str, Any]) -> dict[str, Any]:
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in item.items()}


def _snake(item: dict[str, Any]) -> dict[str, Any]:
    return {re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), k): v for k, v in item.items()}


def take_inventory(clients: AzureClients, workspace: ResourceId) -> Inventory:
    """Read the workspace's connections, non-default datastores, role assignments, computes and endpoints."""
    ml = MlGateway(clients.arm_pipeline())
    found = ml.get_workspace(workspace)
    connections = tuple(
        ConnectionInfo(c.name, c.id, c.private_endpoint_id, c.status)
        for c in ml.list_private_endpoint_connections(workspace)
    )
    datastores = tuple(DatastoreInfo.of(d) for d in ml.list_datastores(workspace) if not d.is_default)
    computes = tuple(ChildInfo(c.id, c.name, c.kind) for c in ml.list_computes(workspace))
    endpoints = tuple(
        ChildInfo(e.id, e.name, e.kind)
        for e in (*ml.list_online_endpoints(workspace), *ml.list_batch_endpoints(workspace))
    )
    return Inventory(
        found.id,
        found.location,
        connections,
        datastores,
        list_role_assignments(clients, workspace),
        computes,
        endpoints,
    )


def list_role_assignments(clients: AzureClients, workspace: ResourceId | str) -> tuple[RoleAssignmentInfo, ...]:
    """Assignments made on the workspace or below it (inherited ones stay where they are and are not listed)."""
    workspace_id = workspace.id if isinstance(workspace, ResourceId) else workspace
    subscription = workspace_id.split("/")[2]
    key = workspace_id.rstrip("/").lower()
    found = []
    for item in clients.authorization(subscription).role_assignments.list_for_scope(workspace_id.lstrip("/")):
        scope = (item.scope or "").rstrip("/")
        if scope.lower() == key or scope.lower().startswith(key + "/"):
            found.append(
                RoleAssignmentInfo(
                    item.id,
                    item.name,
                    scope,
                    item.principal_id,
                    getattr(item, "principal_type", None),
                    item.role_definition_id,
                )
            )
    return tuple(sorted(found, key=lambda r: r.id.lower()))


def account_id(
    datastore_type: str, subscription_id: str | None, resource_group: str | None, name: str | None
) -> str | None:
    provider = _ACCOUNT_TYPES.get((datastore_type or "").lower())
    if not (provider and subscription_id and resource_group and name):
        return None
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{provider}/{name}"
