"""The move preflight rules (docs/api.md check ids): pure functions from a MoveSnapshot to CheckResults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from shared.moves.snapshot import FOREIGN_TENANT, OPTIONAL_PROVIDERS, REQUIRED_PROVIDERS, MoveSnapshot, Read

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"
MOVE_DOC = "https://learn.microsoft.com/azure/machine-learning/how-to-move-workspace"
SOFT_DELETE_DOC = "https://learn.microsoft.com/azure/machine-learning/concept-soft-delete"
# Checks that only inform about work left after the move; a skip of one of these does not block the move.
INFORMATIONAL = frozenset(
    {"workspace.no-labeling-projects", "private-endpoints.reapproval", "datastores.nondefault",
     "role-assignments.not-moved", "workspace.no-deployed-services", "workspace.no-data-profiling"}
)
# What a person does about a check that did not pass (from the workspace move and soft-delete docs).
REMEDIATION = {
    "region.same": "a workspace only moves within its region: pick or create a target resource group in the "
    f"workspace's region. See {MOVE_DOC}",
    "tenant.same": "workspaces cannot move between Microsoft Entra tenants: choose a target subscription of the "
    f"workspace's tenant that the app's identity can read. See {MOVE_DOC}",
    "target.resource-group": "create the resource group in the workspace's region (az group create), or ask for "
    "it with createTargetResourceGroup: true",
    "target.providers-registered": "register the providers in the target subscription "
    f"(az provider register --namespace <namespace> --subscription <id>). See {MOVE_DOC}",
    "workspace.no-cmk": "a workspace encrypted with a customer-managed key cannot move: create a new workspace in "
    f"the target and migrate its assets. See {MOVE_DOC}",
    "workspace.no-computes": "delete or detach every compute instance, cluster and attached compute (provisioning "
    "ones included), validate again, and re-create them after the move under NEW names: re-creating a compute "
    f"instance under its old name fails after a move (a known issue of the move page). See {MOVE_DOC}",
    "workspace.no-online-endpoints": "delete the online endpoints (their deployments go with them) and re-create "
    f"them after the move. See {MOVE_DOC}",
    "workspace.no-batch-endpoints": f"delete the batch endpoints and re-create them after the move. See {MOVE_DOC}",
    "workspace.no-active-jobs": "wait for the jobs to finish or cancel them (az ml job cancel), then validate "
    f"again. See {MOVE_DOC}",
    "workspace.no-labeling-projects": "open the workspace in Azure Machine Learning studio, Data Labeling, and make "
    f"sure no labeling project is running (complete or pause it) before the move. See {MOVE_DOC}",
    "workspace.no-databricks-link": "remove the link between the Azure Databricks workspace and this workspace "
    f"before the move. See {MOVE_DOC}",
    "target.name-free": "recover the soft-deleted workspace, or permanently delete (purge) it from the studio's "
    "Recently deleted view or with `az ml workspace delete --permanently-delete`; a live workspace of that name "
    f"must be renamed away or deleted. See {SOFT_DELETE_DOC}",
    "private-endpoints.reapproval": "after the move, approve the re-created connections (the move route does it "
    f"for pre-existing ones unless approvePrivateEndpoints is 'none'). See {MOVE_DOC}",
    "datastores.nondefault": "after the move, update each datastore's subscription, resource group and "
    f"credentials (the move route does it unless fixDatastores is false). See {MOVE_DOC}",
    "role-assignments.not-moved": f"re-create these role assignments on the moved workspace. See {MOVE_DOC}",
}


# What each provider is for, as the move page's prerequisites say.
PROVIDER_USE = {
    "Microsoft.MachineLearningServices": "the workspace itself",
    "Microsoft.Storage": "the workspace's storage account",
    "Microsoft.ContainerRegistry": "the workspace's container registry",
    "Microsoft.KeyVault": "the workspace's key vault",
    "Microsoft.Insights": "the workspace's Application Insights",
    "Microsoft.Notebooks": "the workspace's integrated notebooks",
    "Microsoft.ContainerService": "Azure Kubernetes Service computes and endpoints on AKS",
}


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: str
    message: str
    remediation: str | None = None
    items: tuple[dict[str, Any], ...] = field(default=())

    @property
    def blocks(self) -> bool:
        """Whether this result keeps the move from being ready."""
        return self.status == FAILED or (self.status == SKIPPED and self.id not in INFORMATIONAL)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status, "message": self.message}
        if self.remediation and self.status != PASSED:
            body["remediation"] = self.remediation
        if self.items:
            body["items"] = [dict(item) for item in self.items]
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "CheckResult":
        items = tuple(body.get("items") or ())
        return cls(body["id"], body["status"], body["message"], body.get("remediation"), items)


def result(cid: str, status: str, message: str, items: Any = (), remediation: str | None = None) -> CheckResult:
    return CheckResult(cid, status, message, None if status == PASSED else remediation or REMEDIATION.get(cid),
                       tuple(items))


def skipped(cid: str, *reads: Read[Any]) -> CheckResult | None:
    """A `skipped` result naming the first failed read, or None when every read succeeded."""
    for read in reads:
        if not read.ok:
            return result(cid, SKIPPED, f"could not be verified: {read.error}", remediation="validate again")
    return None


def region_same(s: MoveSnapshot) -> CheckResult:
    cid = "region.same"
    if skip := skipped(cid, s.workspace, s.target_group):
        return skip
    ws, group = s.workspace.value, s.target_group.value
    if group is None and s.request.create_target_resource_group:
        return result(cid, PASSED, f"the target resource group will be created in the workspace's region {ws.location}")
    if group is None:
        return result(cid, SKIPPED, "the target resource group does not exist, so its region is unknown")
    if group.location == ws.location:
        return result(cid, PASSED, f"workspace and target resource group are both in {ws.location}")
    return result(cid, FAILED, f"the workspace is in {ws.location} but the target resource group in {group.location}")


def tenant_same(s: MoveSnapshot) -> CheckResult:
    cid, source, target = "tenant.same", s.source_tenant.value, s.target_tenant.value
    if skip := skipped(cid, s.source_tenant, s.target_tenant):
        return skip
    sub = s.request.target.subscription_id
    if target == FOREIGN_TENANT:
        return result(cid, FAILED, f"the target subscription {sub} belongs to another Microsoft Entra tenant: ARM "
                      "refused the app's token for it (401 InvalidAuthenticationTokenTenant)")
    if target is None:
        return result(cid, FAILED, f"the target subscription {sub} is not visible to the app's identity")
    if (source or "").lower() == target.lower():
        return result(cid, PASSED, f"both subscriptions belong to tenant {target}")
    return result(cid, FAILED, f"the target subscription is in tenant {target}, the workspace's in {source}")


def target_resource_group(s: MoveSnapshot) -> CheckResult:
    cid, target = "target.resource-group", s.request.target.id
    if skip := skipped(cid, s.target_group):
        return skip
    if s.target_group.value is not None:
        return result(cid, PASSED, f"{target} exists")
    if s.request.create_target_resource_group:
        return result(cid, PASSED, f"{target} does not exist yet; it is created once every other check has passed")
    return result(cid, FAILED, f"the target resource group {target} does not exist")


def target_providers_registered(s: MoveSnapshot) -> CheckResult:
    cid, sub = "target.providers-registered", s.request.target.subscription_id
    if skip := skipped(cid, *(s.providers[ns] for ns in REQUIRED_PROVIDERS)):
        return skip
    missing = [ns for ns in REQUIRED_PROVIDERS if s.providers[ns].value != "Registered"]
    optional = [ns for ns in OPTIONAL_PROVIDERS if s.providers[ns].ok and s.providers[ns].value != "Registered"]
    items = [{"namespace": ns, "registrationState": s.providers[ns].value, "required": ns in REQUIRED_PROVIDERS,
              "neededFor": PROVIDER_USE.get(ns)} for ns in (*missing, *optional)]
    if missing:
        named = "; ".join(f"{ns} ({s.providers[ns].value}; needed for {PROVIDER_USE[ns]})" for ns in missing)
        return result(cid, FAILED, f"{len(missing)} required provider(s) not registered in {sub}: {named}", items)
    if optional:
        named = "; ".join(f"{ns} is not registered: needed only for {PROVIDER_USE[ns]}" for ns in optional)
        return result(cid, WARNING, f"in {sub}: {named}", items)
    return result(cid, PASSED, f"every required resource provider is registered in {sub}")


def workspace_no_cmk(s: MoveSnapshot) -> CheckResult:
    cid = "workspace.no-cmk"
    if skip := skipped(cid, s.workspace):
        return skip
    if s.workspace.value.cmk_enabled:
        return result(cid, FAILED, "the workspace is encrypted with a customer-managed key, which cannot be moved")
    return result(cid, PASSED, "the workspace uses Microsoft-managed keys")


def _none_of(cid: str, read: Read[Any], what: str, rows: Callable[[Any], list[dict[str, Any]]]) -> CheckResult:
    """Failed naming what was found, even when the read broke off later (a failed sub-read never hides a blocker)."""
    items = rows(read.value) if read.value else []
    if not items:
        return skipped(cid, read) or result(cid, PASSED, f"the workspace has no {what}")
    names = ", ".join(item["name"] for item in items[:10]) + (" …" if len(items) > 10 else "")
    partial = "" if read.ok else f" (at least; the list could not be finished: {read.error})"
    return result(cid, FAILED, f"the workspace has {len(items)} {what}{partial}: {names}", items)


def workspace_no_computes(s: MoveSnapshot) -> CheckResult:
    return _none_of("workspace.no-computes", s.computes, "compute resources (in any state)", lambda found: [
        {"name": c.name, "type": c.kind, "provisioningState": c.state, "id": c.id} for c in found])


def workspace_no_online_endpoints(s: MoveSnapshot) -> CheckResult:
    return _none_of("workspace.no-online-endpoints", s.online_endpoints, "online endpoints", lambda found: [
        {"name": e.endpoint.name, "id": e.endpoint.id, "provisioningState": e.endpoint.state,
         "deployments": [d.name for d in e.deployments],
         **({"deploymentsError": e.deployments_error} if e.deployments_error else {})} for e in found])


def workspace_no_batch_endpoints(s: MoveSnapshot) -> CheckResult:
    return _none_of("workspace.no-batch-endpoints", s.batch_endpoints, "batch endpoints", lambda found: [
        {"name": e.name, "id": e.id, "provisioningState": e.state} for e in found])


def workspace_no_active_jobs(s: MoveSnapshot) -> CheckResult:
    return _none_of("workspace.no-active-jobs", s.active_jobs, "jobs that are not finished", lambda found: [
        {"name": j.name, "type": j.kind, "status": j.state, "id": j.id} for j in found])


def workspace_no_labeling_projects(s: MoveSnapshot) -> CheckResult:
    message = "labeling projects cannot be verified: Azure ML has no public ARM API that lists them"
    return result("workspace.no-labeling-projects", WARNING, message)


def workspace_no_databricks_link(s: MoveSnapshot) -> CheckResult:
    cid, links = "workspace.no-databricks-link", s.databricks_links.value
    if skip := skipped(cid, s.databricks_links):
        return skip
    if not links:
        return result(cid, PASSED, "no Azure Databricks workspace of the subscription is linked to this workspace")
    return result(cid, FAILED, f"{len(links)} Azure Databricks workspace(s) are linked to this workspace",
                  [{"id": link} for link in links])


def policy_allowed_target(s: MoveSnapshot) -> CheckResult:
    return result("policy.allowed-target", PASSED, f"{s.request.target.id} is in the app's allow-list of move targets")


def _to_do(cid: str, read: Read[Any], none: str, some: str, rows: Callable[[Any], list[dict[str, Any]]]) -> CheckResult:
    if skip := skipped(cid, read):
        return skip
    items = rows(read.value)
    return result(cid, WARNING, some.format(n=len(items)), items) if items else result(cid, PASSED, none)


def private_endpoints_reapproval(s: MoveSnapshot) -> CheckResult:
    return _to_do(
        "private-endpoints.reapproval", s.private_endpoints, "the workspace has no private endpoint connections",
        "{n} private endpoint connection(s) are disconnected by the move and must be approved again",
        lambda found: [{"id": c.id, "name": c.name, "privateEndpointId": c.private_endpoint_id, "status": c.status}
                       for c in found])


def datastores_nondefault(s: MoveSnapshot) -> CheckResult:
    return _to_do(
        "datastores.nondefault", s.datastores, "the workspace has only default datastores",
        "{n} non-default datastore(s) may keep naming the old subscription / resource group",
        lambda found: [{"id": d.id, "name": d.name, "type": d.datastore_type, "subscriptionId": d.subscription_id,
                        "resourceGroup": d.resource_group} for d in found if not d.is_default])


def role_assignments_not_moved(s: MoveSnapshot) -> CheckResult:
    return _to_do(
        "role-assignments.not-moved", s.role_assignments, "no role assignment is made at the workspace's scope",
        "{n} role assignment(s) at the workspace's scope are not moved",
        lambda found: [{"id": ra.id, "principalId": ra.principal_id, "principalType": ra.principal_type,
                        "roleDefinitionId": ra.role_definition_id} for ra in found
                       if not ra.scope or ra.scope.rstrip("/").lower() == s.request.workspace.id.lower()])


RULES: tuple[Callable[[MoveSnapshot], CheckResult], ...] = (
    region_same, tenant_same, target_resource_group, target_providers_registered, workspace_no_cmk,
    workspace_no_computes, workspace_no_online_endpoints, workspace_no_batch_endpoints, workspace_no_active_jobs,
    workspace_no_labeling_projects, workspace_no_databricks_link,
)
LATER_RULES: tuple[Callable[[MoveSnapshot], CheckResult], ...] = (
    policy_allowed_target, private_endpoints_reapproval, datastores_nondefault, role_assignments_not_moved,
)


def evaluate(snapshot: MoveSnapshot, *, now: datetime | None = None) -> list[CheckResult]:
    """Every check, in the contract's order. The snapshot must hold a workspace (or its read error)."""
    from shared.moves.preflight import kind_checks  # hubs, projects, feature stores, managed networks, serverless
    from shared.moves.preflight.name_check import target_name_free
    from shared.moves.preflight.unsupported import workspace_no_data_profiling, workspace_no_deployed_services
    from shared.moves.workload import rules as quiesce_rules  # what "quiesce": true turns into warnings

    now = _utc(now or datetime.now(timezone.utc))
    return quiesce_rules.apply(snapshot, [*(rule(snapshot) for rule in RULES), *kind_checks.evaluate(snapshot),
                                          workspace_no_deployed_services(snapshot),
                                          workspace_no_data_profiling(snapshot), target_name_free(snapshot, now),
                                          *(rule(snapshot) for rule in LATER_RULES)])


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
