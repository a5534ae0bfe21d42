"""Can a soft-deleted workspace be recovered? A live check of its dependencies and the documented recovery order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.azure.arm_ids import ArmIdError, ResourceId
from shared.errors import describe_azure_error
from shared.retention.advice import options_of
from shared.retention.dependency_states import refine
from shared.retention.inventory import InventoryRow
from shared.retention.ledger import LedgerRow, LedgerState
from shared.retention.notices import NOT_RESTORED

log = logging.getLogger("aml_lifecycle.recoverability")

# Recovery order (Azure ML docs, workspace soft delete): dependencies first, the workspace last.
STEPS: tuple[tuple[str, str, bool, str], ...] = (
    ("keyVault", "Microsoft.KeyVault/vaults", True,
     "Recover the Key Vault if it is soft-deleted (az keyvault recover), or re-create it with the same name."),
    ("storageAccount", "Microsoft.Storage/storageAccounts", True,
     "Restore the deleted storage account (Storage accounts > Restore deleted account), or re-create it with the "
     "same name."),
    ("applicationInsights", "Microsoft.Insights/components", True,
     "Recover the Log Analytics workspace it used, then re-create Application Insights with the same name."),
    ("containerRegistry", "Microsoft.ContainerRegistry/registries", False,
     "Not required: recovery works without it; re-create it to keep the workspace's images."),
)
API_VERSIONS = {
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.insights/components": "2020-02-02",
    "microsoft.containerregistry/registries": "2023-07-01",
}


@dataclass(frozen=True)
class DependencyCheck:
    role: str
    resource_id: str | None
    required: bool
    status: str  # exists | deleted | unknown
    action: str
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        body = {"role": self.role, "resourceId": self.resource_id, "required": self.required, "status": self.status,
                "action": self.action}
        if self.detail:
            body["detail"] = self.detail
        return body


def check_dependency(clients: Any, role: str, resource_id: str | None, required: bool, action: str) -> DependencyCheck:
    if not resource_id:
        return DependencyCheck(role, None, required, "unknown", action, "not recorded in the inventory")
    try:
        parsed = ResourceId.parse(resource_id)
        api_version = API_VERSIONS.get(parsed.type.lower())
        if api_version is None:
            return DependencyCheck(role, resource_id, required, "unknown", action, f"unexpected type {parsed.type}")
        resources = clients.resources(parsed.subscription_id).resources
        exists = resources.check_existence_by_id(resource_id, api_version=api_version)
    except ArmIdError as exc:
        return DependencyCheck(role, resource_id, required, "unknown", action, f"recorded id is malformed: {exc}")
    except ResourceNotFoundError:
        exists = False
    except Exception as exc:  # throttling past the retries, 5xx, auth: the answer is unknown, not "deleted"
        log.warning("checking %s failed: %s", resource_id, describe_azure_error(exc))
        return DependencyCheck(role, resource_id, required, "unknown", action, describe_azure_error(exc))
    return DependencyCheck(role, resource_id, required, "exists" if exists else "deleted",
                           "Nothing to do: it exists." if exists else action)


def check_group(clients: Any, subscription_id: str, resource_group: str) -> DependencyCheck:
    """ARM GET of the workspace's resource group (ResourceGroups_CheckExistence): a deleted group must be re-created
    (same name and subscription) before anything in it can be restored; a failed check is `unknown`."""
    group_id = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    action = (f"Re-create the resource group {resource_group} (same name, same subscription) first: the workspace and "
              "its dependencies are restored into it.")
    try:
        exists = clients.resources(subscription_id).resource_groups.check_existence(resource_group)
    except Exception as exc:  # throttled past the retries, 5xx, 403: unknown, never "deleted"
        log.warning("checking resource group %s failed: %s", group_id, describe_azure_error(exc))
        return DependencyCheck("resourceGroup", group_id, True, "unknown", action, describe_azure_error(exc))
    return DependencyCheck("resourceGroup", group_id, True, "exists" if exists else "deleted",
                           "Nothing to do: it exists." if exists else action)


def recovery_report(clients: Any, row: LedgerRow, inventory: InventoryRow | None, *, now: datetime) -> dict[str, Any]:
    """The recovery section of `GET /api/retention/{sub}/{rg}/{name}` for a soft-deleted workspace.

    A missing Key Vault or storage account is told apart as soft-deleted (recover it first: the action says how)
    or purged, and Application Insights' Log Analytics workspace likewise (dependency_states.py).
    """
    in_window = row.state is LedgerState.SOFT_DELETED and now < row.purge_after
    deps = inventory.dependencies if inventory else {}
    group = check_group(clients, row.subscription_id, row.resource_group)
    checks = [check_dependency(clients, role, deps.get(role), required, action) for role, _, required, action in STEPS]
    checks = [group, *refine(clients, checks)]
    blocking = [c.role for c in checks if c.required and c.status != "exists"]
    if group.status == "deleted":  # the group's own row names it: blockedBy says which group to re-create
        blocking = [f"resourceGroup:{row.resource_group}" if r == "resourceGroup" else r for r in blocking]
    order = [
        {"step": i + 1, "role": c.role, "resourceId": c.resource_id, "status": c.status, "action": c.action}
        for i, c in enumerate(checks)
    ]
    order.append({"step": len(order) + 1, "role": "workspace", "resourceId": row.workspace_id, "status": "soft-deleted",
                  "action": options_of(row, group_gone=group.status == "deleted")[0]["how"]})
    report: dict[str, Any] = {
        "recoverable": in_window and not blocking,
        "blockedBy": blocking,
        "recoverFirst": [c.role for c in checks if c.status == "soft-deleted"],
        "purged": [c.role for c in checks if c.status == "purged"],
        "dependencies": [c.to_json() for c in checks],
        "recoveryOrder": order,
        "notRestored": NOT_RESTORED,
    }
    if inventory is None:
        report["note"] = ("The app has no inventory of this workspace (it was deleted before the app saw it written): "
                          "run POST /api/inventory/backfill for workspaces that still exist; this one's dependencies "
                          "are unknown.")
    elif inventory.read_error:
        report["note"] = (f"The last ARM read of the workspace failed ({inventory.read_error}); "
                          "dependencies may be outdated.")
    return report
