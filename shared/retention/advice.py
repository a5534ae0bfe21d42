"""The one recovery and purge instruction: what the Azure ML soft-delete docs accept, shared by alerts, API and docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.times import iso_z  # noqa: F401  (re-exported: the retention modules read it from here)

# concept-soft-delete (Azure Machine Learning, "Workspace soft deletion"): a soft-deleted workspace is recovered or
# permanently deleted from "Recently deleted" in the portal / studio, dependencies restored first; its name cannot be
# reused meanwhile. Workspaces_Delete (2025-09-01) documents `forceToPurge`. No SDK or CLI command recovers one.
RECOVER = ("Recover it before {until}: in the Azure portal or Azure Machine Learning studio open Recently deleted "
           "workspaces, select it, Recover. Restore its dependent resources first (Key Vault, storage account, "
           "Application Insights{group}). There is no SDK or CLI command to recover a workspace, and creating one "
           "with the same name does not recover it: Azure refuses the name while the workspace is soft-deleted.")
PURGE = ("Permanently delete it (this cannot be undone): Recently deleted workspaces > Permanently delete in the "
         "portal or studio, or the raw ARM call DELETE {workspace_id}?api-version=2025-09-01&forceToPurge=true "
         "(az ml workspace delete --permanently-delete looks the workspace up first and does not find a "
         "soft-deleted one). This app does it with POST {route}/purge where AML_LIFECYCLE_PURGE_SCOPES allows. "
         "It frees the name, stops the cost of a CMK workspace's managed resource group, and is required when "
         "personal data must be erased.")


def route_of(subscription_id: str, resource_group: str, workspace_name: str) -> str:
    return f"/api/retention/{subscription_id}/{resource_group}/{workspace_name}"


def options(workspace_id: str, subscription_id: str, resource_group: str, workspace_name: str, until: datetime,
            *, group_gone: bool = False) -> list[dict[str, str]]:
    """`[{"action": "recover", "until", "how"}, {"action": "purge", "how"}]`: the instruction, filled in."""
    group = f"; and first re-create its resource group {resource_group}, which is gone" if group_gone else ""
    route = route_of(subscription_id, resource_group, workspace_name)
    return [
        {"action": "recover", "until": iso_z(until) or "",
         "how": RECOVER.format(until=iso_z(until), group=group) + f" GET {route} checks each dependency."},
        {"action": "purge", "how": PURGE.format(workspace_id=workspace_id, route=route)},
    ]


def options_of(row: Any, *, group_gone: bool = False) -> list[dict[str, str]]:
    """The options of a ledger row (shared.retention.ledger.LedgerRow)."""
    return options(row.workspace_id, row.subscription_id, row.resource_group, row.workspace_name, row.purge_after,
                   group_gone=group_gone)
