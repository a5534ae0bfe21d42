"""Typed gateway to Microsoft.MachineLearningServices (api-version 2025-09-01) over the ARM pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.exceptions import ARMErrorFormat

from shared.azure.arm_ids import ResourceGroupId, ResourceId

API_VERSION = "2025-09-01"
WORKSPACES = "Microsoft.MachineLearningServices/workspaces"
# Job statuses after which a job no longer runs (JobStatus in the 2025-09-01 spec).
TERMINAL_JOB_STATUSES = frozenset({"completed", "failed", "canceled", "notresponding"})
_ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
_MAX_PAGES = 200


def raise_for_status(response: HttpResponse) -> None:
    """Map an ARM error response onto azure.core exceptions (the one place this is done for raw calls)."""
    if 200 <= response.status_code < 300:
        return
    map_error(status_code=response.status_code, response=response, error_map=_ERROR_MAP)
    raise HttpResponseError(response=response, error_format=ARMErrorFormat)


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    location: str
    cmk_enabled: bool
    storage_account: str | None
    key_vault: str | None
    application_insights: str | None
    container_registry: str | None
    managed_resource_group: str | None
    public_network_access: str | None
    private_endpoint_connections: tuple[dict[str, Any], ...] = ()
    internal_id: str | None = None  # properties.workspaceId: the same across a recovery, new for a re-used name
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> "Workspace":
        props = body.get("properties") or {}
        encryption = props.get("encryption") or {}
        return cls(
            id=body["id"],
            name=body["name"],
            location=(body.get("location") or "").lower().replace(" ", ""),
            cmk_enabled=str(encryption.get("status", "")).lower() == "enabled",
            storage_account=props.get("storageAccount"),
            key_vault=props.get("keyVault"),
            application_insights=props.get("applicationInsights"),
            container_registry=props.get("containerRegistry"),
            managed_resource_group=props.get("serviceProvisionedResourceGroup"),
            public_network_access=props.get("publicNetworkAccess"),
            private_endpoint_connections=tuple(props.get("privateEndpointConnections") or ()),
            internal_id=props.get("workspaceId"),
            raw=body,
        )

    @property
    def dependency_ids(self) -> dict[str, str]:
        """The workspace's own associated resources by role."""
        found = {
            "storageAccount": self.storage_account,
            "keyVault": self.key_vault,
            "applicationInsights": self.application_insights,
            "containerRegistry": self.container_registry,
        }
        return {role: rid for role, rid in found.items() if rid}


@dataclass(frozen=True)
class Child:
    """A workspace child (compute, endpoint, deployment, job) as the checks need it."""

    id: str
    name: str
    kind: str
    state: str | None

    @classmethod
    def compute(cls, body: dict[str, Any]) -> "Child":
        props = body.get("properties") or {}
        return cls(body["id"], body["name"], props.get("computeType") or "Unknown", props.get("provisioningState"))

    @classmethod
    def endpoint(cls, body: dict[str, Any], kind: str) -> "Child":
        props = body.get("properties") or {}
        return cls(body["id"], body["name"], kind, props.get("provisioningState"))

    @classmethod
    def job(cls, body: dict[str, Any]) -> "Child":
        props = body.get("properties") or {}
        return cls(body["id"], body["name"], props.get("jobType") or "Unknown", props.get("status"))

    @property
    def job_is_active(self) -> bool:
        return (self.state or "").lower() not in TERMINAL_JOB_STATUSES


@dataclass(frozen=True)
class Datastore:
    id: str
    name: str
    datastore_type: str
    is_default: bool
    subscription_id: str | None
    resource_group: str | None
    account_name: str | None
    credentials_type: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> "Datastore":
        props = body.get("properties") or {}
        creds = props.get("credentials") or {}
        return cls(
            id=body["id"],
            name=body["name"],
            datastore_type=props.get("datastoreType") or "Unknown",
            is_default=bool(props.get("isDefault")),
            subscription_id=props.get("subscriptionId"),
            resource_group=props.get("resourceGroup"),
            account_name=props.get("accountName") or props.get("storeName"),
            credentials_type=creds.get("credentialsType"),
            raw=body,
        )

    def names_location(self, group: ResourceGroupId) -> bool:
        """Whether the datastore's subscriptionId / resourceGroup name the given resource group."""
        return (self.subscription_id or "").lower() == group.subscription_id.lower() and (
            self.resource_group or ""
        ).lower() == group.name.lower()


@dataclass(frozen=True)
class PrivateEndpointConnection:
    id: str
    name: str
    private_endpoint_id: str | None
    status: str
    provisioning_state: str | None

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> "PrivateEndpointConnection":
        props = body.get("properties") or {}
        state = props.get("privateLinkServiceConnectionState") or {}
        return cls(
            id=body["id"],
            name=body["name"],
            private_endpoint_id=(props.get("privateEndpoint") or {}).get("id"),
            status=state.get("status") or "Unknown",
            provisioning_state=props.get("provisioningState"),
        )


class MlGateway:
    """The Microsoft.MachineLearningServices operations the app performs, typed, paged and error-mapped."""

    def __init__(self, pipeline: ARMPipelineClient, *, api_version: str = API_VERSION) -> None:
        self._pipeline = pipeline
        self.api_version = api_version

    # raw transport -----------------------------------------------------------------------------
    def _send(self, method: str, path_or_url: str, *, body: Any = None, params: dict[str, str] | None = None) -> HttpResponse:
        # nextLink URLs already carry their api-version and skip token.
        absolute = path_or_url.startswith("http")
        query = None if absolute else {"api-version": self.api_version, **(params or {})}
        # send_request does not prefix the base URL: a bare ARM path would go out without a host.
        url = path_or_url if absolute else self._pipeline.format_url(path_or_url)
        request = HttpRequest(method, url, params=query, json=body)
        response = self._pipeline.send_request(request)
        raise_for_status(response)
        return response

    def _get(self, path: str, **params: str) -> dict[str, Any]:
        return self._send("GET", path, params=params or None).json()

    def _list(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        page = self._send("GET", path, params=params or None).json()
        for _ in range(_MAX_PAGES):
            yield from page.get("value") or ()
            next_link = page.get("nextLink")
            if not next_link:
                return
            page = self._send("GET", next_link).json()
        raise HttpResponseError(message=f"more than {_MAX_PAGES} pages listing {path}")

    # workspaces --------------------------------------------------------------------------------
    def get_workspace(self, workspace: ResourceId) -> Workspace:
        return Workspace.from_arm(self._get(workspace.id))

    def list_workspaces(self, scope: ResourceGroupId | str) -> list[Workspace]:
        """Workspaces of a resource group, or of a subscription given as its id string."""
        base = scope.id if isinstance(scope, ResourceGroupId) else scope
        return [Workspace.from_arm(item) for item in self._list(f"{base}/providers/{WORKSPACES}")]

    # children ----------------------------------------------------------------------------------
    def list_computes(self, workspace: ResourceId) -> list[Child]:
        return [Child.compute(item) for item in self._list(f"{workspace.id}/computes")]

    def list_online_endpoints(self, workspace: ResourceId) -> list[Child]:
        return [Child.endpoint(item, "OnlineEndpoint") for item in self._list(f"{workspace.id}/onlineEndpoints")]

    def list_online_deployments(self, endpoint_id: str) -> list[Child]:
        return [Child.endpoint(item, "OnlineDeployment") for item in self._list(f"{endpoint_id}/deployments")]

    def list_batch_endpoints(self, workspace: ResourceId) -> list[Child]:
        return [Child.endpoint(item, "BatchEndpoint") for item in self._list(f"{workspace.id}/batchEndpoints")]

    def list_serverless_endpoints(self, workspace: ResourceId) -> list[Child]:
        """ServerlessEndpoints_List (2025-09-01): `{workspace}/serverlessEndpoints`, paged."""
        return [Child.endpoint(item, "ServerlessEndpoint") for item in self._list(f"{workspace.id}/serverlessEndpoints")]

    def list_outbound_rules(self, workspace: ResourceId) -> list[dict[str, Any]]:
        """ManagedNetworkSettingsRule_List (2025-09-01): the managed network's outbound rules, as ARM returns them."""
        return list(self._list(f"{workspace.id}/outboundRules"))

    def list_active_jobs(self, workspace: ResourceId) -> list[Child]:
        return [job for page in self.iter_job_pages(workspace) for job in page if job.job_is_active]

    def iter_job_pages(self, workspace: ResourceId) -> Iterator[list[Child]]:
        """Jobs page by page, without a page cap. `listViewType=ActiveOnly` means "not archived" (ListViewType in the
        2025-09-01 spec), so finished jobs come too: the caller stops when it has what it needs."""
        page = self._send("GET", f"{workspace.id}/jobs", params={"listViewType": "ActiveOnly"}).json()
        while True:
            yield [Child.job(item) for item in page.get("value") or ()]
            next_link = page.get("nextLink")
            if not next_link:
                return
            page = self._send("GET", next_link).json()

    # datastores --------------------------------------------------------------------------------
    def list_datastores(self, workspace: ResourceId) -> list[Datastore]:
        return [Datastore.from_arm(item) for item in self._list(f"{workspace.id}/datastores")]

    def get_datastore(self, datastore_id: str) -> Datastore:
        return Datastore.from_arm(self._get(datastore_id))

    def list_datastore_secrets(self, datastore_id: str) -> dict[str, Any]:
        """The datastore's secrets. The caller must keep them in memory only: never log or store them."""
        return self._send("POST", f"{datastore_id}/listSecrets").json()

    def delete_datastore(self, datastore_id: str) -> None:
        """Unregister a datastore (the data in its storage account is untouched)."""
        self._send("DELETE", datastore_id)

    def put_datastore(self, datastore_id: str, body: dict[str, Any]) -> Datastore:
        return Datastore.from_arm(self._send("PUT", datastore_id, body=body, params={"skipValidation": "false"}).json())

    # private endpoint connections --------------------------------------------------------------
    def list_private_endpoint_connections(self, workspace: ResourceId) -> list[PrivateEndpointConnection]:
        return [
            PrivateEndpointConnection.from_arm(item)
            for item in self._list(f"{workspace.id}/privateEndpointConnections")
        ]

    def approve_private_endpoint_connection(self, connection_id: str, description: str) -> PrivateEndpointConnection:
        body = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": description}}}
        return PrivateEndpointConnection.from_arm(self._send("PUT", connection_id, body=body).json())

