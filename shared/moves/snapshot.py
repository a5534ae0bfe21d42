"""Reads everything the move checks need through ARM, concurrently and bounded, into one MoveSnapshot."""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Generic, TypeVar

from azure.core.exceptions import ResourceNotFoundError

from shared.azure import tables
from shared.azure.arm_ids import ResourceId
from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import Child, Datastore, MlGateway, PrivateEndpointConnection, Workspace
from shared.errors import describe_azure_error
from shared.moves.request import MoveRequest
from shared.retention.ledger import RetentionLedger

T = TypeVar("T")

REQUIRED_PROVIDERS = (
    "Microsoft.MachineLearningServices",
    "Microsoft.Storage",
    "Microsoft.ContainerRegistry",
    "Microsoft.KeyVault",
)
OPTIONAL_PROVIDERS = ("Microsoft.Notebooks", "Microsoft.ContainerService")
MAX_WORKERS = 8
READ_TIMEOUT_SECONDS = 90.0


@dataclass(frozen=True)
class Read(Generic[T]):
    """One read's outcome: its value, or why it could not be made (secret-free)."""

    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Group:
    id: str
    location: str


@dataclass(frozen=True)
class OnlineEndpoint:
    endpoint: Child
    deployments: tuple[Child, ...] = ()


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    principal_id: str
    principal_type: str | None
    role_definition_id: str


@dataclass(frozen=True)
class LedgerEntry:
    """The retention ledger's row for the target name (DESIGN §4)."""

    state: str
    purge_after: datetime | None


@dataclass(frozen=True)
class MoveSnapshot:
    """What ARM (and the ledger) said about the source, the target and the workspace, read once."""

    request: MoveRequest
    workspace: Read[Workspace] = field(default_factory=Read)  # value None: the workspace does not exist
    source_tenant: Read[str] = field(default_factory=Read)
    target_tenant: Read[str] = field(default_factory=Read)
    target_group: Read[Group] = field(default_factory=Read)  # value None: the group does not exist
    providers: dict[str, Read[str]] = field(default_factory=dict)  # namespace -> registrationState
    computes: Read[list[Child]] = field(default_factory=Read)
    online_endpoints: Read[list[OnlineEndpoint]] = field(default_factory=Read)
    batch_endpoints: Read[list[Child]] = field(default_factory=Read)
    active_jobs: Read[list[Child]] = field(default_factory=Read)
    databricks_links: Read[list[str]] = field(default_factory=Read)
    target_ledger: Read[LedgerEntry] = field(default_factory=Read)  # value None: no row
    target_workspace_exists: Read[bool] = field(default_factory=Read)
    private_endpoints: Read[list[PrivateEndpointConnection]] = field(default_factory=Read)
    datastores: Read[list[Datastore]] = field(default_factory=Read)
    role_assignments: Read[list[RoleAssignment]] = field(default_factory=Read)


def read_snapshot(
    clients: AzureClients,
    request: MoveRequest,
    *,
    max_workers: int = MAX_WORKERS,
    timeout: float = READ_TIMEOUT_SECONDS,
) -> MoveSnapshot:
    """Run every read on a bounded pool; a read that fails or overruns `timeout` becomes a Read with an error."""
    readers = _readers(clients, request)
    results: dict[str, Read[Any]] = {}
    # Not a `with` block: its exit would wait for a hung read and defeat the timeout.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="preflight")
    try:
        deadline = time.monotonic() + timeout
        futures = {name: pool.submit(reader) for name, reader in readers.items()}
        for name, future in futures.items():
            try:
                results[name] = Read(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except concurrent.futures.TimeoutError:
                future.cancel()
                results[name] = Read(error=f"no answer within {timeout:g}s")
            except Exception as exc:  # each read's failure is reported on its check, never raised
                results[name] = Read(error=describe_azure_error(exc))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    providers = {ns: results.pop(f"provider:{ns}") for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)}
    return MoveSnapshot(request, providers=providers, **results)


def _readers(clients: AzureClients, request: MoveRequest) -> dict[str, Callable[[], Any]]:
    ml = MlGateway(clients.arm_pipeline())
    ws, target = request.workspace, request.target
    readers: dict[str, Callable[[], Any]] = {
        "workspace": lambda: _workspace(ml, ws),
        "source_tenant": lambda: _tenant(clients, ws.subscription_id),
        "target_tenant": lambda: _tenant(clients, target.subscription_id),
        "target_group": lambda: _group(clients, target.subscription_id, target.name),
        "computes": lambda: ml.list_computes(ws),
        "online_endpoints": lambda: _online_endpoints(ml, ws),
        "batch_endpoints": lambda: ml.list_batch_endpoints(ws),
        "active_jobs": lambda: ml.list_active_jobs(ws),
        "databricks_links": lambda: _databricks_links(clients, ws),
        "target_ledger": lambda: _ledger_entry(clients, target.subscription_id, target.name, ws.name),
        "target_workspace_exists": lambda: _exists(ml, ws.moved_to(target)),
        "private_endpoints": lambda: ml.list_private_endpoint_connections(ws),
        "datastores": lambda: ml.list_datastores(ws),
        "role_assignments": lambda: _role_assignments(clients, ws),
    }
    for namespace in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS):
        readers[f"provider:{namespace}"] = lambda ns=namespace: _provider_state(clients, target.subscription_id, ns)
    return readers


def _tenant(clients: AzureClients, subscription_id: str) -> str | None:
    """The subscription's tenant, or None when the identity cannot see the subscription."""
    try:
        return clients.subscriptions().subscriptions.get(subscription_id).tenant_id
    except ResourceNotFoundError:
        return None


def _group(clients: AzureClients, subscription_id: str, name: str) -> Group | None:
    try:
        group = clients.resources(subscription_id).resource_groups.get(name)
    except ResourceNotFoundError:
        return None
    return Group(group.id, (group.location or "").lower().replace(" ", ""))


def _provider_state(clients: AzureClients, subscription_id: str, namespace: str) -> str:
    try:
        return clients.resources(subscription_id).providers.get(namespace).registration_state or "Unknown"
    except ResourceNotFoundError as exc:
        if "subscription" in str(getattr(exc.error, "code", "") or "").lower():
            raise  # the subscription itself is unknown: say so (skipped), rather than "not registered"
        return "NotRegistered"


def _online_endpoints(ml: MlGateway, workspace: ResourceId) -> list[OnlineEndpoint]:
    return [OnlineEndpoint(e, tuple(ml.list_online_deployments(e.id))) for e in ml.list_online_endpoints(workspace)]


def _databricks_links(clients: AzureClients, workspace: ResourceId) -> list[str]:
    """Ids of Databricks workspaces in the workspace's subscription whose amlWorkspaceId names it."""
    linked = []
    for item in clients.databricks(workspace.subscription_id).workspaces.list_by_subscription():
        props = getattr(item, "properties", None)
        parameters = getattr(props, "parameters", None)
        aml = getattr(getattr(parameters, "aml_workspace_id", None), "value", None)
        if isinstance(aml, str) and aml.strip().rstrip("/").lower() == workspace.id.lower():
            linked.append(item.id)
    return linked


def _role_assignments(clients: AzureClients, workspace: ResourceId) -> list[RoleAssignment]:
    found = clients.authorization(workspace.subscription_id).role_assignments.list_for_scope(
        workspace.id, filter="atScope()"
    )
    return [
        RoleAssignment(ra.id, ra.principal_id, getattr(ra, "principal_type", None), ra.role_definition_id)
        for ra in found
        # atScope() also returns assignments inherited from above; keep those made on the workspace itself.
        if (ra.scope or "").rstrip("/").lower() == workspace.id.lower()
    ]


def _workspace(ml: MlGateway, workspace: ResourceId) -> Workspace | None:
    try:
        return ml.get_workspace(workspace)
    except ResourceNotFoundError:
        return None


def _exists(ml: MlGateway, workspace: ResourceId) -> bool:
    return _workspace(ml, workspace) is not None


def _ledger_entry(clients: AzureClients, subscription_id: str, resource_group: str, name: str) -> LedgerEntry | None:
    row = RetentionLedger(tables.table(clients.tables(), tables.RETENTION)).get(subscription_id, resource_group, name)
    if row is None:
        return None
    return LedgerEntry(getattr(row.state, "value", str(row.state)), row.purge_after)
