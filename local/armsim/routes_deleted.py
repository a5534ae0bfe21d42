"""Deleted Key Vaults, storage accounts and Log Analytics workspaces, served by their deleted-resource routes.

Each provider documents its own soft delete: Key Vault (soft delete is on for every vault; Vaults_ListDeleted /
Vaults_GetDeleted, Microsoft.KeyVault stable/2024-11-01, examples listDeletedVaults.json, getDeletedVault.json);
Storage (a deleted account is recoverable for 14 days; DeletedAccounts_List, Microsoft.Storage stable/2025-01-01,
example DeletedAccountList.json); Log Analytics (Workspaces_Delete: "The name is kept for 14 days", unless
`force=true`; DeletedWorkspaces_List, Microsoft.OperationalInsights). Application Insights has no soft delete.
A purge (the end of the retention, or an explicit purge) is the control API's /_sim/deleted/purge.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from aiohttp import web

from . import ids
from .errors import ArmError, not_found
from .router import Ctx, page, route

KEPT = {  # type -> days the deleted resource can be recovered (the providers' documented defaults)
    "microsoft.keyvault/vaults": 90,
    "microsoft.storage/storageaccounts": 14,
    "microsoft.operationalinsights/workspaces": 14,
}


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def keep_if_soft_deleted(ctx: Ctx, body: dict) -> None:
    """After a generic DELETE: keep a vault, storage account or LA workspace (not `force=true`) as deleted."""
    kind = (body.get("type") or "").lower()
    if kind not in KEPT:
        return
    if kind == "microsoft.operationalinsights/workspaces" and (ctx.q("force") or "").lower() == "true":
        return  # Workspaces_Delete: "A workspace that was deleted with this flag cannot be recovered."
    now = datetime.now(timezone.utc)
    ctx.state.deleted_resources[ids.key(body["id"])] = {
        "resource": body, "deletedAt": _stamp(now), "purgeAt": _stamp(now + timedelta(days=KEPT[kind]))}


def _of_kind(ctx: Ctx, kind: str) -> list[dict]:
    sub = ctx.params["sub"].lower()
    return [e for e in ctx.state.deleted_resources.values()
            if (e["resource"].get("type") or "").lower() == kind and (ids.subscription_of(e["resource"]["id"]) or "").lower() == sub]


def _vault(ctx: Ctx, entry: dict) -> dict:
    res = entry["resource"]
    location = (res.get("location") or "").lower()
    return {"id": f"/subscriptions/{ctx.params['sub']}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{res['name']}",
            "name": res["name"], "type": "Microsoft.KeyVault/deletedVaults",
            "properties": {"vaultId": res["id"], "location": location, "tags": res.get("tags") or {},
                           "deletionDate": entry["deletedAt"], "scheduledPurgeDate": entry["purgeAt"],
                           "purgeProtectionEnabled": bool((res.get("properties") or {}).get("enablePurgeProtection"))}}


def _account(ctx: Ctx, entry: dict) -> dict:
    res = entry["resource"]
    location = (res.get("location") or "").lower()
    created = (res.get("systemData") or {}).get("createdAt") or entry["deletedAt"]
    return {"id": f"/subscriptions/{ctx.params['sub']}/providers/Microsoft.Storage/locations/{location}/deletedAccounts/{res['name']}",
            "name": res["name"], "type": "Microsoft.Storage/deletedAccounts",
            "properties": {"storageAccountResourceId": res["id"], "location": location,
                           "restoreReference": f"{res['name']}|{created}", "creationTime": created,
                           "deletionTime": entry["deletedAt"]}}


def _workspace(_ctx: Ctx, entry: dict) -> dict:
    res = dict(entry["resource"])  # DeletedWorkspaces_List returns Workspace objects (their original ids)
    res.pop("_sim", None)
    return res


async def list_deleted_vaults(ctx: Ctx) -> web.Response:
    items = [_vault(ctx, e) for e in _of_kind(ctx, "microsoft.keyvault/vaults")]
    return web.json_response(page(ctx, items, ctx.state.page_sizes["default"]))


async def get_deleted_vault(ctx: Ctx) -> web.Response:
    for entry in _of_kind(ctx, "microsoft.keyvault/vaults"):
        body = _vault(ctx, entry)
        if body["name"].lower() == ctx.params["name"].lower() and body["properties"]["location"] == ctx.params["loc"].lower():
            return web.json_response(body)
    raise not_found(f"/subscriptions/{ctx.params['sub']}/providers/Microsoft.KeyVault/deletedVaults/{ctx.params['name']}")


async def list_deleted_accounts(ctx: Ctx) -> web.Response:
    items = [_account(ctx, e) for e in _of_kind(ctx, "microsoft.storage/storageaccounts")]
    return web.json_response(page(ctx, items, ctx.state.page_sizes["default"]))


async def list_deleted_workspaces(ctx: Ctx) -> web.Response:
    items = [_workspace(ctx, e) for e in _of_kind(ctx, "microsoft.operationalinsights/workspaces")]
    return web.json_response({"value": items})  # DeletedWorkspaces_List is not pageable


def purge(state, resource_id: str) -> dict:
    entry = state.deleted_resources.pop(ids.key(resource_id), None)
    if entry is None:
        raise ArmError(404, "ResourceNotFound", f"No deleted resource '{resource_id}'.")
    return entry


ROUTES = [
    route("GET", "/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults", list_deleted_vaults),
    route("GET", "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}",
          get_deleted_vault),
    route("GET", "/subscriptions/{sub}/providers/Microsoft.Storage/deletedAccounts", list_deleted_accounts),
    route("GET", "/subscriptions/{sub}/providers/Microsoft.OperationalInsights/deletedWorkspaces",
          list_deleted_workspaces),
]
