"""Is a missing dependency soft-deleted (recoverable) or purged? ARM's deleted-resource reads, one list per provider.

Key Vault: Vaults_ListDeleted, GET /subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults, 2024-11-01
(Microsoft.KeyVault stable/2024-11-01, example listDeletedVaults.json; items carry properties.vaultId, the vault's id,
and scheduledPurgeDate). Storage: DeletedAccounts_List, GET /subscriptions/{sub}/providers/Microsoft.Storage/
deletedAccounts, 2025-01-01 (example DeletedAccountList.json; properties.storageAccountResourceId). Log Analytics:
DeletedWorkspaces_List, GET /subscriptions/{sub}/providers/Microsoft.OperationalInsights/deletedWorkspaces,
2025-07-01 (items are Workspace objects with their original ids). Application Insights has no soft delete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from shared.azure.arm_ids import ResourceId
from shared.errors import describe_azure_error

log = logging.getLogger("aml_lifecycle.recoverability")
MAX_PAGES = 20

LISTS = {  # resource type (lower case) -> (list path under the subscription, api-version, field with the old id)
    "microsoft.keyvault/vaults": ("providers/Microsoft.KeyVault/deletedVaults", "2024-11-01", "vaultId"),
    "microsoft.storage/storageaccounts": ("providers/Microsoft.Storage/deletedAccounts", "2025-01-01",
                                          "storageAccountResourceId"),
    "microsoft.operationalinsights/workspaces": ("providers/Microsoft.OperationalInsights/deletedWorkspaces",
                                                 "2025-07-01", None),
}

RECOVER_FIRST = {
    "microsoft.keyvault/vaults": (
        "The Key Vault is soft-deleted: recover it first (az keyvault recover --name {name}, or the portal: Key vaults > "
        "Manage deleted vaults > Recover), before {purge}; then recover the workspace."),
    "microsoft.storage/storageaccounts": (
        "The storage account is soft-deleted: restore it first (portal: Storage accounts > Restore deleted account; "
        "possible within 14 days of its deletion while the name is free), then recover the workspace."),
    "microsoft.operationalinsights/workspaces": (
        "Application Insights' Log Analytics workspace is soft-deleted: recover it first by creating it again with the "
        "same name, subscription, resource group and location, then re-create Application Insights on it with the "
        "same name, then recover the workspace."),
}
PURGED = ("Purged (not in ARM's deleted {what} list): it cannot be recovered, so the workspace cannot be recovered "
          "as it was; re-creating it with the same name gives an empty {what}.")


@dataclass(frozen=True)
class DeletedState:
    """status: soft-deleted | purged | unknown; `action` says what to do; `detail` the list's facts or the error."""

    status: str
    action: str
    detail: str | None = None
    deleted_resource_id: str | None = None


class DeletedResources:
    """Reads each deleted-resource list at most once per subscription and provider (one recovery report)."""

    def __init__(self, clients: Any) -> None:
        self._clients = clients
        self._cache: dict[tuple[str, str], list[dict[str, Any]] | Exception] = {}

    def state_of(self, resource_id: str) -> DeletedState | None:
        """The deleted state of a resource that no longer exists; None if its type has no deleted-resource read."""
        parsed = ResourceId.parse(resource_id)
        kind = parsed.type.lower()
        if kind not in LISTS:
            return None
        what = {"microsoft.keyvault/vaults": "vaults", "microsoft.storage/storageaccounts": "accounts"}.get(
            kind, "workspaces")
        items = self._list(parsed.subscription_id, kind)
        if isinstance(items, Exception):
            return DeletedState("unknown", "Check the deleted-resources list yourself: the app could not read it.",
                                _describe(items))
        field = LISTS[kind][2]
        for item in items:
            old_id = (item.get("properties") or {}).get(field) if field else item.get("id")
            if (old_id or "").lower() == resource_id.lower():
                props = item.get("properties") or {}
                purge = props.get("scheduledPurgeDate") or "its scheduled purge"
                deleted = props.get("deletionDate") or props.get("deletionTime")
                return DeletedState("soft-deleted", RECOVER_FIRST[kind].format(name=parsed.name, purge=purge),
                                    f"deleted {deleted}" if deleted else None, item.get("id"))
        return DeletedState("purged", PURGED.format(what="Key Vault" if what == "vaults" else (
            "storage account" if what == "accounts" else "Log Analytics workspace")))

    def _list(self, subscription_id: str, kind: str) -> list[dict[str, Any]] | Exception:
        key = (subscription_id.lower(), kind)
        if key not in self._cache:
            try:
                self._cache[key] = self._read(subscription_id, kind)
            except (AzureError, ValueError) as exc:  # throttled past the retries, 5xx, 403: unknown, not purged
                log.warning("reading deleted %s in %s failed: %s", kind, subscription_id, _describe(exc))
                self._cache[key] = exc
        return self._cache[key]

    def _read(self, subscription_id: str, kind: str) -> list[dict[str, Any]]:
        path, api_version, _ = LISTS[kind]
        pipeline = self._clients.arm_pipeline()
        url: str | None = pipeline.format_url(f"/subscriptions/{subscription_id}/{path}")
        params: dict[str, str] | None = {"api-version": api_version}
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            response = pipeline.send_request(HttpRequest("GET", url, params=params))
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            body = response.json() or {}
            items.extend(body.get("value") or ())
            url, params = body.get("nextLink"), None  # nextLink carries its own api-version and token
            if not url:
                return items
        return items


def _describe(exc: Exception) -> str:
    if isinstance(exc, AzureError):
        return describe_azure_error(exc)
    return str(exc)[:200]
