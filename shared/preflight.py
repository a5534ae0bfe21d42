"""The move preflight rules (DESIGN §6 check ids): pure functions from a MoveSnapshot to CheckResults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from shared.move_snapshot import OPTIONAL_PROVIDERS, REQUIRED_PROVIDERS, MoveSnapshot, Read

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"
MOVE_DOC = "https://learn.microsoft.com/azure/machine-learning/how-to-move-workspace"
SOFT_DELETE_DOC = "https://learn.microsoft.com/azure/machine-learning/concept-soft-delete"
# Checks that only inform about work left after the move; a skip of one of these does not block the move.
INFORMATIONAL = frozenset(
    {"workspace.no-labeling-projects", "private-endpoints.reapproval", "datastores.nondefault", "role-assignments.not-moved"}
)


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
        return cls(body["id"], body["status"], body["message"], body.get("remediation"), tuple(body.get("items") or ()))


def skipped(check_id: str, *reads: Read[Any], remediation: str | None = None) -> CheckResult | None:
    """A `skipped` result naming the first failed read, or None when every read succeeded."""
    for read in reads:
        if not read.ok:
            return CheckResult(check_id, SKIPPED, f"could not be verified: {read.error}", remediation or "retry the validation")
    return None


def region_same(s: MoveSnapshot) -> CheckResult:
    cid = "region.same"
    if (skip := skipped(cid, s.workspace, s.target_group)) is not None:
        return skip
    ws, group = s.workspace.value, s.target_group.value
    if group is None:
        if s.request.create_target_resource_group:
            return CheckResult(cid, PASSED, f"the target resource group will be created in the workspace's region {ws.location}")
        return CheckResult(cid, SKIPPED, "the target resource group does not exist, so its region is unknown",
                           "create the target resource group in the workspace's region, or set createTargetResourceGroup")
    if group.location == ws.location:
        return CheckResult(cid, PASSED, f"workspace and target resource group are both in {ws.location}")
    return CheckResult(
        cid, FAILED, f"the workspace is in {ws.location} but the target resource group is in {group.location}",
        f"a workspace can only move within its region: pick or create a target resource group in {ws.location}. "
        f"See {MOVE_DOC}",
    )


def tenant_same(s: MoveSnapshot) -> CheckResult:
    cid = "tenant.same"
    if (skip := skipped(cid, s.source_tenant, s.target_tenant)) is not None:
        return skip
    target_sub = s.request.target.subscription_id
    if s.target_tenant.value is None:
        return CheckResult(
            cid, FAILED, f"the target subscription {target_sub} is not visible to the app's identity",
            "check the subscription id, and grant the app's identity access to it (it must be in the same tenant)",
        )
    if (s.source_tenant.value or "").lower() == s.target_tenant.value.lower():
        return CheckResult(cid, PASSED, f"both subscriptions belong to tenant {s.target_tenant.value}")
    return CheckResult(
        cid, FAILED,
        f"the target subscription is in tenant {s.target_tenant.value}, the workspace's in {s.source_tenant.value}",
        f"workspaces cannot move between Microsoft Entra tenants; choose a target subscription of the same tenant. See {MOVE_DOC}",
    )


def target_resource_group(s: MoveSnapshot) -> CheckResult:
    cid = "target.resource-group"
    if (skip := skipped(cid, s.target_group)) is not None:
        return skip
    target = s.request.target
    if s.target_group.value is not None:
        return CheckResult(cid, PASSED, f"{target.id} exists")
    if s.request.create_target_resource_group:
        return CheckResult(cid, PASSED, f"{target.id} does not exist yet; it will be created once every other check has passed")
    return CheckResult(
        cid, FAILED, f"the target resource group {target.id} does not exist",
        "create it in the workspace's region (az group create), or ask for it with createTargetResourceGroup: true",
    )


def target_providers_registered(s: MoveSnapshot) -> CheckResult:
    cid = "target.providers-registered"
    sub = s.request.target.subscription_id
    if (skip := skipped(cid, *(s.providers[ns] for ns in REQUIRED_PROVIDERS))) is not None:
        return skip
    missing = [ns for ns in REQUIRED_PROVIDERS if s.providers[ns].value != "Registered"]
    optional = [ns for ns in OPTIONAL_PROVIDERS if s.providers.get(ns, Read()).ok and s.providers[ns].value != "Registered"]
    items = tuple({"namespace": ns, "registrationState": s.providers[ns].value, "required": ns in REQUIRED_PROVIDERS}
                  for ns in (*missing, *optional))
    register = "register them in the target subscription: " + "; ".join(
        f"az provider register --namespace {ns} --subscription {sub}" for ns in (*missing, *optional))
    if missing:
        return CheckResult(cid, FAILED, f"required resource providers are not registered in {sub}: {', '.join(missing)}",
                           register, items)
    if optional:
        return CheckResult(
            cid, WARNING,
            f"required providers are registered; not registered: {', '.join(optional)} "
            "(needed for integrated notebooks / AKS compute)", register, items)
    return CheckResult(cid, PASSED, f"every required resource provider is registered in {sub}")


def workspace_no_cmk(s: MoveSnapshot) -> CheckResult:
    cid = "workspace.no-cmk"
    if (skip := skipped(cid, s.workspace)) is not None:
        return skip
    if not s.workspace.value.cmk_enabled:
        return CheckResult(cid, PASSED, "the workspace uses Microsoft-managed keys")
    return CheckResult(
        cid, FAILED, "the workspace is encrypted with a customer-managed key; such workspaces cannot be moved",
        f"there is no in-place move for a CMK workspace: create a new workspace in the target and migrate assets. See {MOVE_DOC}",
    )


def _children(cid: str, read: Read[Any], what: str, remediation: str, rows: Callable[[Any], list[dict[str, Any]]]) -> CheckResult:
    if (skip := skipped(cid, read)) is not None:
        return skip
    items = rows(read.value)
    if not items:
        return CheckResult(cid, PASSED, f"the workspace has no {what}")
    return CheckResult(cid, FAILED, f"the workspace has {len(items)} {what}: "
                       + ", ".join(item["name"] for item in items[:10]) + (" …" if len(items) > 10 else ""),
                       remediation, tuple(items))


def workspace_no_computes(s: MoveSnapshot) -> CheckResult:
    return _children(
        "workspace.no-computes", s.computes, "compute resources (any state)",
        f"delete or detach every compute instance, cluster and attached compute (including ones still provisioning), "
        f"then validate again; re-create them after the move. See {MOVE_DOC}",
        lambda computes: [{"name": c.name, "type": c.kind, "provisioningState": c.state, "id": c.id} for c in computes],
    )


def workspace_no_online_endpoints(s: MoveSnapshot) -> CheckResult:
    def rows(endpoints: Any) -> list[dict[str, Any]]:
        return [{"name": e.endpoint.name, "id": e.endpoint.id, "provisioningState": e.endpoint.state,
                 "deployments": [d.name for d in e.deployments]} for e in endpoints]

    return _children(
        "workspace.no-online-endpoints", s.online_endpoints, "online endpoints",
        f"delete the online endpoints (their deployments go with them) and re-create them after the move. See {MOVE_DOC}",
        rows,
    )


def workspace_no_batch_endpoints(s: MoveSnapshot) -> CheckResult:
    return _children(
        "workspace.no-batch-endpoints", s.batch_endpoints, "batch endpoints",
        f"delete the batch endpoints and re-create them after the move. See {MOVE_DOC}",
        lambda endpoints: [{"name": e.name, "id": e.id, "provisioningState": e.state} for e in endpoints],
    )


def workspace_no_active_jobs(s: MoveSnapshot) -> CheckResult:
    return _children(
        "workspace.no-active-jobs", s.active_jobs, "jobs that are not finished",
        f"wait for the jobs to complete or cancel them (az ml job cancel), then validate again. See {MOVE_DOC}",
        lambda jobs: [{"name": j.name, "type": j.kind, "status": j.state, "id": j.id} for j in jobs],
    )


def workspace_no_labeling_projects(s: MoveSnapshot) -> CheckResult:
    return CheckResult(
        "workspace.no-labeling-projects", WARNING,
        "labeling projects cannot be verified: Azure ML has no public ARM API that lists them",
        "open the workspace in Azure Machine Learning studio, go to Data Labeling and make sure no labeling project "
        f"is running (complete or pause it) before the move. See {MOVE_DOC}",
    )


def workspace_no_databricks_link(s: MoveSnapshot) -> CheckResult:
    cid = "workspace.no-databricks-link"
    if (skip := skipped(cid, s.databricks_links)) is not None:
        return skip
    links = s.databricks_links.value
    if not links:
        return CheckResult(cid, PASSED, "no Azure Databricks workspace in the subscription is linked to this workspace")
    return CheckResult(
        cid, FAILED, f"{len(links)} Azure Databricks workspace(s) are linked to this workspace",
        f"unlink the Azure Databricks workspace(s) from the Azure ML workspace before moving. See {MOVE_DOC}",
        tuple({"id": link} for link in links),
    )


def target_name_free(s: MoveSnapshot, now: datetime) -> CheckResult:
    cid = "target.name-free"
    name, target = s.request.workspace.name, s.request.target
    if (skip := skipped(cid, s.target_ledger, s.target_workspace_exists)) is not None:
        return skip
    if s.target_workspace_exists.value:
        return CheckResult(cid, FAILED, f"a workspace named {name} already exists in {target.id}",
                           "choose another target resource group, or delete or rename the existing workspace")
    entry = s.target_ledger.value
    if entry is not None and entry.state == "SoftDeleted" and (entry.purge_after is None or _utc(entry.purge_after) > now):
        purge_after = _utc(entry.purge_after).isoformat() if entry.purge_after else None
        until = f" until {purge_after}" if purge_after else ""
        return CheckResult(
            cid, FAILED, f"a soft-deleted workspace named {name} in {target.id} holds the name{until}",
            "recover that workspace, or permanently delete (purge) it from the studio's Recently deleted view or with "
            f"az ml workspace delete --permanently-delete; the name is free after that. See {SOFT_DELETE_DOC}",
            ({"workspaceName": name, "state": entry.state, "purgeAfter": purge_after},),
        )
    return CheckResult(cid, PASSED, f"no workspace, live or soft-deleted, holds the name {name} in {target.id}")


def policy_allowed_target(s: MoveSnapshot) -> CheckResult:
    return CheckResult("policy.allowed-target", PASSED, f"{s.request.target.id} is in the app's allow-list of move targets")


def private_endpoints_reapproval(s: MoveSnapshot) -> CheckResult:
    cid = "private-endpoints.reapproval"
    if (skip := skipped(cid, s.private_endpoints)) is not None:
        return skip
    connections = s.private_endpoints.value
    if not connections:
        return CheckResult(cid, PASSED, "the workspace has no private endpoint connections")
    return CheckResult(
        cid, WARNING, f"{len(connections)} private endpoint connection(s) are disconnected by the move and must be approved again",
        "after the move, approve the re-created connections (the move does it for pre-existing ones unless "
        f"approvePrivateEndpoints is 'none'). See {MOVE_DOC}",
        tuple({"id": c.id, "name": c.name, "privateEndpointId": c.private_endpoint_id, "status": c.status} for c in connections),
    )


def datastores_nondefault(s: MoveSnapshot) -> CheckResult:
    cid = "datastores.nondefault"
    if (skip := skipped(cid, s.datastores)) is not None:
        return skip
    stores = [d for d in s.datastores.value if not d.is_default]
    if not stores:
        return CheckResult(cid, PASSED, "the workspace has only default datastores")
    return CheckResult(
        cid, WARNING, f"{len(stores)} non-default datastore(s) may keep naming the old subscription / resource group",
        "after the move, update each datastore's subscription, resource group and credentials (the move does it "
        f"unless fixDatastores is false). See {MOVE_DOC}",
        tuple({"id": d.id, "name": d.name, "type": d.datastore_type, "subscriptionId": d.subscription_id,
               "resourceGroup": d.resource_group} for d in stores),
    )


def role_assignments_not_moved(s: MoveSnapshot) -> CheckResult:
    cid = "role-assignments.not-moved"
    if (skip := skipped(cid, s.role_assignments)) is not None:
        return skip
    assignments = s.role_assignments.value
    if not assignments:
        return CheckResult(cid, PASSED, "no role assignment is made at the workspace's scope")
    return CheckResult(
        cid, WARNING, f"{len(assignments)} role assignment(s) at the workspace's scope are not moved",
        f"re-create these role assignments on the moved workspace. See {MOVE_DOC}",
        tuple({"id": ra.id, "principalId": ra.principal_id, "principalType": ra.principal_type,
               "roleDefinitionId": ra.role_definition_id} for ra in assignments),
    )


RULES: tuple[Callable[[MoveSnapshot], CheckResult], ...] = (
    region_same, tenant_same, target_resource_group, target_providers_registered, workspace_no_cmk,
    workspace_no_computes, workspace_no_online_endpoints, workspace_no_batch_endpoints, workspace_no_active_jobs,
    workspace_no_labeling_projects, workspace_no_databricks_link,
)
AFTER_NAME: tuple[Callable[[MoveSnapshot], CheckResult], ...] = (
    policy_allowed_target, private_endpoints_reapproval, datastores_nondefault, role_assignments_not_moved,
)


def evaluate(snapshot: MoveSnapshot, *, now: datetime | None = None) -> list[CheckResult]:
    """Every check, in the contract's order."""
    now = _utc(now or datetime.now(timezone.utc))
    return [*(rule(snapshot) for rule in RULES), target_name_free(snapshot, now), *(rule(snapshot) for rule in AFTER_NAME)]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
