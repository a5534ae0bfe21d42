"""Microsoft.Resources subscriptions, tenants and resource providers (get, list, register)."""
from __future__ import annotations

from aiohttp import web

from .errors import ArmError
from .router import Ctx, page, route

LOCATIONS = ["West Europe", "North Europe", "East US", "East US 2", "West US 2"]
RESOURCE_TYPES = {
    "microsoft.machinelearningservices": [("workspaces", "2025-09-01"), ("workspaces/computes", "2025-09-01"),
                                          ("workspaces/onlineEndpoints", "2025-09-01"), ("workspaces/jobs", "2025-09-01"),
                                          ("workspaces/datastores", "2025-09-01"), ("locations", "2025-09-01")],
    "microsoft.storage": [("storageAccounts", "2025-01-01")],
    "microsoft.keyvault": [("vaults", "2024-11-01")],
    "microsoft.containerregistry": [("registries", "2025-04-01")],
    "microsoft.insights": [("components", "2020-02-02")],
    "microsoft.network": [("privateEndpoints", "2024-05-01")],
    "microsoft.databricks": [("workspaces", "2026-01-01")],
}


def subscription_body(sub: dict) -> dict:
    return {
        "id": f"/subscriptions/{sub['subscriptionId']}", "authorizationSource": "RoleBased", "managedByTenants": [],
        "subscriptionId": sub["subscriptionId"], "tenantId": sub["tenantId"], "displayName": sub["displayName"],
        "state": sub["state"], "tags": {},
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Internal_2014-09-01",
                                 "spendingLimit": "Off"},
    }


def provider_body(sub_id: str, provider: dict) -> dict:
    types = RESOURCE_TYPES.get(provider["namespace"].lower(), [])
    return {
        "id": f"/subscriptions/{sub_id}/providers/{provider['namespace']}", "namespace": provider["namespace"],
        "registrationPolicy": "RegistrationRequired", "registrationState": provider["registrationState"],
        "resourceTypes": [{"resourceType": t, "locations": LOCATIONS, "apiVersions": [v],
                           "capabilities": "SupportsTags, SupportsLocation"} for t, v in types],
    }


def require_subscription(ctx: Ctx) -> dict:
    sub = ctx.state.subscription(ctx.params["sub"])
    if sub is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    return sub


def require_provider(ctx: Ctx) -> tuple[dict, dict]:
    sub = require_subscription(ctx)
    provider = sub["providers"].get(ctx.params["ns"].lower())
    if provider is None:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{ctx.params['ns']}' is invalid.")
    return sub, provider


async def list_subscriptions(ctx: Ctx) -> web.Response:
    """Subscriptions_List (Microsoft.Resources subscriptions 2022-12-01): `{value, nextLink}`, paged by the
    `subscriptions` page size (control API: PUT /_sim/page-sizes), in the order they were added. Only the token's
    tenant's subscriptions, as ARM lists them (a foreign tenant's answer 401 InvalidAuthenticationTokenTenant)."""
    home = (ctx.state.home_tenant or "").lower()
    subs = [subscription_body(s) for s in ctx.state.subscriptions.values()
            if not home or s["tenantId"].lower() == home]
    return web.json_response(page(ctx, subs, ctx.state.page_sizes["subscriptions"]))


async def get_subscription(ctx: Ctx) -> web.Response:
    return web.json_response(subscription_body(require_subscription(ctx)))


async def list_tenants(ctx: Ctx) -> web.Response:
    tenants = [{"id": f"/tenants/{t['tenantId']}", "tenantId": t["tenantId"], "tenantCategory": "Home",
                "displayName": t.get("displayName", ""), "defaultDomain": t.get("defaultDomain", ""),
                "domains": [t["defaultDomain"]] if t.get("defaultDomain") else []}
               for t in ctx.state.tenants.values()]
    return web.json_response(page(ctx, tenants, ctx.state.page_sizes["default"]))


async def list_providers(ctx: Ctx) -> web.Response:
    sub = require_subscription(ctx)
    items = [provider_body(sub["subscriptionId"], p) for p in sub["providers"].values()]
    return web.json_response(page(ctx, items, ctx.state.page_sizes["default"]))


async def get_provider(ctx: Ctx) -> web.Response:
    sub, provider = require_provider(ctx)
    return web.json_response(provider_body(sub["subscriptionId"], provider))


async def register_provider(ctx: Ctx) -> web.Response:
    """Registration is accepted as Registering and is complete for every later read."""
    sub, provider = require_provider(ctx)
    previous = provider["registrationState"]
    provider["registrationState"] = "Registered"
    body = provider_body(sub["subscriptionId"], {**provider, "registrationState": "Registering" if previous != "Registered" else "Registered"})
    ctx.emit("action", body["id"], f"{provider['namespace']}/register/action")
    return web.json_response(body)


async def unregister_provider(ctx: Ctx) -> web.Response:
    sub, provider = require_provider(ctx)
    provider["registrationState"] = "NotRegistered"
    body = provider_body(sub["subscriptionId"], {**provider, "registrationState": "Unregistering"})
    ctx.emit("action", body["id"], f"{provider['namespace']}/unregister/action")
    return web.json_response(body)


ROUTES = [
    route("GET", "/subscriptions", list_subscriptions),
    route("GET", "/tenants", list_tenants),
    route("GET", "/subscriptions/{sub}", get_subscription),
    route("GET", "/subscriptions/{sub}/providers", list_providers),
    route("GET", "/subscriptions/{sub}/providers/{ns}", get_provider),
    route("POST", "/subscriptions/{sub}/providers/{ns}/register", register_provider),
    route("POST", "/subscriptions/{sub}/providers/{ns}/unregister", unregister_provider),
]
