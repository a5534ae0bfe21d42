"""Reads everything the move checks need through ARM, concurrently and bounded, into one MoveSnapshot."""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Generic, TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.azure import tables
from shared.azure.arm_ids import ResourceId
from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import Child, Datastore, MlGateway, PrivateEndpointConnection, Workspace
from shared.errors import describe_azure_error
from shared.moves.request import MoveRequest
from shared.retention.ledger import RetentionLedger

T = TypeVar("T")

# "Move Azure Machine Learning workspaces between subscriptions", Prerequisites: the destination subscription must
# be registered for these providers (Microsoft.Insights joined the list in the current page).
REQUIRED_PROVIDERS = (
    "Microsoft.MachineLearningServices",
    "Microsoft.Storage",
    "Microsoft.ContainerRegistry",
    "Microsoft.KeyVault",
    "Microsoft.Insights",
)
OPTIONAL_PROVIDERS = ("Microsoft.Notebooks", "Microsoft.ContainerService")
MAX_WORKERS = 8
# Every read together must leave room for ARM's validation inside the HTTP bound (docs/moves.md, "The HTTP limit").
READ_TIMEOUT_SECONDS = 60.0
# What `_tenant` returns for a subscription whose tenant did not issue our token (ARM: 401
# InvalidAuthenticationTokenTenant): it is in another tenant, whichever that is.
FOREIGN_TENANT = "InvalidAuthenticationTokenTenant"


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
    deployments_error: str | None = None  # the deployments could not be listed; the endpoint still blocks


class PartialRead(Exception):
    """A list read that failed part-way: what it found before failing still counts (a blocker stays a blocker)."""

    def __init__(self, found: list[Any], cause: BaseException) -> None:
        super().__init__(describe_azure_error(cause))
        self.found = found


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    principal_id: str
    principal_type: str | None
    role_definition_id: str
    name: str = ""
    scope: str = ""  # the workspace, or a resource below it


@dataclass(frozen=True)
class LedgerEntry:
    """A retention ledger row (docs/tables.md) of the workspace's name in the target subscription."""

    state: str
    purge_after: datetime | None
    resource_group: str = ""  # lower case, as the ledger keys it


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
    target_ledger: Read[list[LedgerEntry]] = field(default_factory=Read)  # rows of that name in the target sub
    ledger_covers_target: bool = True  # the target subscription's events reach the ledger (watched subscriptions)
    target_workspace_exists: Read[bool] = field(default_factory=Read)
    private_endpoints: Read[list[PrivateEndpointConnection]] = field(default_factory=Read)
    datastores: Read[list[Datastore]] = field(default_factory=Read)
    role_assignments: Read[list[RoleAssignment]] = field(default_factory=Read)
    serverless_endpoints: Read[list[Child]] = field(default_factory=Read)  # preflight/kind_checks.py
    outbound_rules: Read[list[dict[str, Any]]] = field(default_factory=Read)  # the managed network's rules


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
            except PartialRead as exc:
                results[name] = Read(exc.found, error=str(exc))
            except Exception as exc:  # each read's failure is reported on its check, never raised
                results[name] = Read(error=describe_azure_error(exc))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    providers = {ns: results.pop(f"provider:{ns}") for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)}
    watched = {sub.lower() for sub in getattr(clients.settings, "watched_subscriptions", ())}
    covers = request.target.subscription_id.lower() in watched
    return MoveSnapshot(request, providers=providers, ledger_covers_target=covers, **results)


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
        "active_jobs": lambda: _active_jobs(ml, ws),
        "databricks_links": lambda: _databricks_links(clients, ws),
        "target_ledger": lambda: _ledger_entries(clients, target.subscription_id, ws.name),
        "target_workspace_exists": lambda: _exists(ml, ws.moved_to(target)),
        "private_endpoints": lambda: ml.list_private_endpoint_connections(ws),
        "datastores": lambda: ml.list_datastores(ws),
        "role_assignments": lambda: _role_assignments(clients, ws),
        "serverless_endpoints": lambda: ml.list_serverless_endpoints(ws),
        "outbound_rules": lambda: ml.list_outbound_rules(ws),
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
    except HttpResponseError as exc:
        if exc.status_code == 401 and FOREIGN_TENANT.lower() in str(getattr(exc.error, "code", "") or exc).lower():
            return FOREIGN_TENANT
        raise


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
    """Each endpoint with its deployments; an endpoint whose deployments cannot be read is kept (it blocks)."""
    found = []
    for endpoint in ml.list_online_endpoints(workspace):
        try:
            found.append(OnlineEndpoint(endpoint, tuple(ml.list_online_deployments(endpoint.id))))
        except HttpResponseError as exc:
            found.append(OnlineEndpoint(endpoint, deployments_error=describe_azure_error(exc)))
    return found


def _active_jobs(ml: MlGateway, workspace: ResourceId) -> list[Child]:
    """The active jobs of the first page that has any; every page when none is active (thousands of finished
    jobs are normal). A page that fails after an active job was found keeps that job (PartialRead)."""
    found: list[Child] = []
    try:
        for page in ml.iter_job_pages(workspace):
            found = [job for job in page if job.job_is_active]
            if found:
                return found
    except HttpResponseError as exc:
        raise PartialRead(found, exc) from exc
    return found


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
    """Assignments made on the workspace or below it (the same list the move's snapshot step keeps)."""
    from shared.moves.premove_inventory import list_role_assignments

    return [RoleAssignment(ra.id, ra.principal_id, ra.principal_type, ra.role_definition_id, ra.name, ra.scope)
            for ra in list_role_assignments(clients, workspace)]


def _workspace(ml: MlGateway, workspace: ResourceId) -> Workspace | None:
    try:
        return ml.get_workspace(workspace)
    except ResourceNotFoundError:
        return None


def _exists(ml: MlGateway, workspace: ResourceId) -> bool:
    return _workspace(ml, workspace) is not None


def _ledger_entries(clients: AzureClients, subscription_id: str, name: str) -> list[LedgerEntry]:
    """Every ledger row of that workspace name in the subscription, whatever its resource group."""
    ledger = RetentionLedger(tables.table(clients.tables(), tables.RETENTION))
    return [
        LedgerEntry(getattr(row.state, "value", str(row.state)), row.purge_after, row.resource_group.lower())
        for row in ledger.iter_rows(subscription_id=subscription_id)
        if row.workspace_name.lower() == name.lower()
    ]
