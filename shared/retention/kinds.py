"""Workspace kinds on delete and recovery: what Azure documents for hubs, projects and feature stores (with its
source), what it leaves unsaid (and the app says so), a deleted hub's projects, and the kind part of a recovery
report (a project names its hub's state, a hub its projects')."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.azure.arm_ids import ArmIdError, parse_workspace_id
from shared.azure.workspace_kind import DEFAULT, FEATURE_STORE, HUB, PROJECT
from shared.errors import describe_azure_error
from shared.retention.events import EventKind, WorkspaceEvent
from shared.retention.inventory import Inventory, InventoryRow
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger

log = logging.getLogger("aml_lifecycle.kinds")

SOFT_DELETE_DOC = "https://learn.microsoft.com/azure/machine-learning/concept-soft-delete"
HUB_DELETE_DOC = ("https://learn.microsoft.com/azure/ai-foundry/how-to/create-azure-ai-resource"
                  "#delete-an-azure-ai-foundry-hub")
HUB_SDK_PURGE = ("azure-ai-ml WorkspaceHub begin_delete(permanently_delete=...): \"Workspaces are soft-deleted "
                 "state by default\" (Azure/azure-sdk-for-python PR #31310)")
HUB_FIELD_REPORTS = ("Azure/terraform-provider-azapi#731 (a hub with a managed virtual network times out on delete); "
                     "Azure/bicep-registry-modules#3849 (a hub's redeploy blocked by its soft-deleted predecessor)")
NOT_DOCUMENTED = "not documented"
ORDER_IMPLIED = "not documented: the order the dependency implies"


@dataclass(frozen=True)
class KindFact:
    fact: str
    documented: bool
    source: str
    app: str  # what the app does about it

    def to_json(self) -> dict[str, Any]:
        return {"fact": self.fact, "documented": self.documented, "source": self.source, "app": self.app}


_WORKSPACE_FACTS = (
    KindFact("a deleted workspace is soft-deleted for the retention period; its name is held until then or a purge",
             True, SOFT_DELETE_DOC, "SoftDeleted row, PurgeAfter, alerts"),
)
KIND_FACTS: dict[str, tuple[KindFact, ...]] = {
    DEFAULT: _WORKSPACE_FACTS,
    HUB: (
        KindFact("deleting a hub deletes all its projects (and each project's endpoints)", True, HUB_DELETE_DOC,
                 "each project the inventory links to the hub is recorded deleted with it (Reason says so)"),
        KindFact("a hub is soft-deleted by default; permanently_delete purges it", True, HUB_SDK_PURGE,
                 "SoftDeleted row like any workspace; forceToPurge=true is PermanentlyDeleted"),
        KindFact("whether the hub's projects are soft-deleted or purged with it", False, NOT_DOCUMENTED,
                 "recorded the way the hub was deleted; the sweep's ARM check settles each one"),
        KindFact("whether a hub and its projects are recovered together, and in which order", False, ORDER_IMPLIED,
                 "the recovery report lists the hub first, then its projects"),
        KindFact("a hub with a managed virtual network can take long to delete", False, HUB_FIELD_REPORTS,
                 "nothing is assumed: the ledger follows the delete event and the sweep's ARM check"),
    ),
    PROJECT: (
        KindFact("a project is a workspace of kind Project linked to its hub (properties.hubResourceId)", True,
                 "WorkspaceProperties.hubResourceId, Microsoft.MachineLearningServices 2025-09-01 (Workspace.kind is "
                 "a free string there; Project is the value the AI Foundry hub-project templates use)",
                 "the inventory and the ledger row record the hub"),
        KindFact("whether a project alone is soft-deleted and its name held like a workspace's", False, NOT_DOCUMENTED,
                 "treated as a workspace (SoftDeleted, name held) until ARM says otherwise"),
        KindFact("whether a project can be recovered while its hub is soft-deleted or gone", False, ORDER_IMPLIED,
                 "the recovery report names the hub's state and lists the hub's recovery first"),
    ),
    FEATURE_STORE: (
        KindFact("a feature store is a workspace of kind FeatureStore", True,
                 "Workspace.kind, WorkspaceProperties.featureStoreSettings, 2025-09-01", "recorded as its kind"),
        KindFact("whether workspace soft delete applies to feature stores as documented for workspaces", False,
                 NOT_DOCUMENTED, "treated as a workspace (SoftDeleted, name held) until ARM says otherwise"),
    ),
}


def facts_for(kind: str | None) -> list[dict[str, Any]]:
    """What Azure documents (or not) for this kind; an unknown kind gets the workspace facts and a silent note."""
    if kind in KIND_FACTS:
        return [f.to_json() for f in KIND_FACTS[kind]]
    unknown = KindFact(f"soft delete of a workspace of kind {kind or 'unknown'}", False, NOT_DOCUMENTED,
                       "treated as a workspace")
    return [f.to_json() for f in (*_WORKSPACE_FACTS, unknown)]


def inventory_json(known: InventoryRow | None) -> dict[str, Any] | None:
    """What the inventory last read of the workspace's kind and links (None: never inventoried)."""
    if known is None:
        return None
    return {"kind": known.kind, "hubResourceId": known.hub_resource_id, "projects": list(known.projects),
            "managedNetworkIsolationMode": known.isolation_mode,
            "readAt": known.read_at.isoformat() if known.read_at else None}


def projects_of(inventory: Inventory, hub: InventoryRow) -> list[InventoryRow]:
    """The hub's projects the inventory knows: those naming it as their hub, plus its associatedWorkspaces."""
    found = {p.key: p for p in inventory.projects_of(hub.workspace_id)}
    for project_id in hub.projects:
        try:
            parsed = parse_workspace_id(project_id)
        except ArmIdError:
            continue
        row = inventory.get(parsed.subscription_id, parsed.resource_group, parsed.name)
        row = row or InventoryRow(parsed.subscription_id.lower(), parsed.resource_group.lower(), parsed.name.lower(),
                                  project_id, kind=PROJECT, hub_resource_id=hub.workspace_id)
        found.setdefault(row.key, row)
    return list(found.values())


def project_delete(hub_event: WorkspaceEvent, project: InventoryRow) -> WorkspaceEvent:
    """The delete of one project, deleted with its hub (HUB_DELETE_DOC); its id is stable per hub event and project."""
    workspace = parse_workspace_id(project.workspace_id)
    how = "permanently (forceToPurge)" if hub_event.force_to_purge else "soft-deleted"
    return WorkspaceEvent(
        f"{hub_event.event_id}|project|{project.workspace_name.lower()}", EventKind.DELETE, workspace,
        hub_event.event_time, hub_event.caller, hub_event.correlation_id, force_to_purge=hub_event.force_to_purge,
        reason=f"deleted with its hub {hub_event.workspace_id} (event {hub_event.event_id}): Azure documents that "
               f"deleting a hub deletes its projects ({HUB_DELETE_DOC}); whether they are soft-deleted or purged with "
               f"it is not documented: recorded as the hub was ({how}) until ARM says otherwise")


def _ledger_state(ledger: RetentionLedger, workspace_id: str, now: datetime) -> tuple[str, LedgerRow | None]:
    try:
        parsed = parse_workspace_id(workspace_id)
    except ArmIdError:
        return "unknown", None
    row = ledger.get(parsed.subscription_id, parsed.resource_group, parsed.name)
    if row is None:
        return "no ledger row", None
    if row.state is LedgerState.SOFT_DELETED and now >= row.purge_after:
        return "Expired", row
    return row.state.value, row


def _live(clients: Any, workspace_id: str) -> str:
    """What ARM says of the workspace now: live, not found (soft-deleted or gone), or why it is unknown."""
    from shared.azure.ml_gateway import MlGateway

    try:
        MlGateway(clients.arm_pipeline()).get_workspace(parse_workspace_id(workspace_id))
        return "live"
    except ResourceNotFoundError:
        return "not found"
    except Exception as exc:  # the answer is unknown; said, never guessed
        return f"unknown ({describe_azure_error(exc)})"


def add_kind(report: dict[str, Any], clients: Any, ledger: RetentionLedger, inventory: Inventory, row: LedgerRow,
             known: InventoryRow | None, *, now: datetime) -> dict[str, Any]:
    """The recovery report with `workspaceKind` ({kind, documented[], hub?, projects?}) and, for a project or a
    hub, the linked workspaces' steps in `recoveryOrder` marked `documented: false` with their source."""
    kind = row.kind or (known.kind if known else None)
    section: dict[str, Any] = {"kind": kind or "unknown", "documented": facts_for(kind)}
    order = list(report.get("recoveryOrder") or [])
    hub_id = row.hub_resource_id or (known.hub_resource_id if known else None)
    if hub_id:
        state, _ = _ledger_state(ledger, hub_id, now)
        arm = _live(clients, hub_id)
        section["hub"] = {"id": hub_id, "ledgerState": state, "arm": arm}
        if arm != "live":  # soft-deleted, purged or unreadable: the project's recovery waits on it
            order.insert(len(order) - 1, {
                "step": 0, "role": "hub", "resourceId": hub_id, "status": state,
                "action": "Recover the hub first (Recently deleted workspaces > Recover), then this project.",
                "documented": False, "source": ORDER_IMPLIED})
    if kind == HUB and known is not None:
        projects = []
        for project in projects_of(inventory, known):
            state, _ = _ledger_state(ledger, project.workspace_id, now)
            projects.append({"id": project.workspace_id, "ledgerState": state})
            if state == LedgerState.SOFT_DELETED.value:
                order.append({"step": 0, "role": "project", "resourceId": project.workspace_id, "status": state,
                              "action": "Recover the project after its hub.", "documented": False,
                              "source": ORDER_IMPLIED})
        section["projects"] = projects
    for number, step in enumerate(order, start=1):
        step["step"] = number
    return {**report, "recoveryOrder": order, "workspaceKind": section}
