"""Workspace kinds (Microsoft.MachineLearningServices 2025-09-01): hubs and their projects, serverless endpoints,
managed network outbound rules, and a hub's delete taking its projects with it.

Sources: Workspace.kind and WorkspaceProperties.hubResourceId / associatedWorkspaces / managedNetwork
(workspaceRP.json); ServerlessEndpoints_* (examples/Workspace/ServerlessEndpoint/*.json);
ManagedNetworkSettingsRule_List / _Get (examples/ManagedNetwork/listRule.json, getRule.json); "Deleting a hub deletes
all associated projects" (Azure AI Foundry, how-to/create-azure-ai-resource, "Delete an Azure AI Foundry hub").
Where Azure is silent, the control API picks the variant (`POST /_sim/kinds`):
  hubDeleteProjects: "soft-delete" (default) | "purge": how a hub's delete removes its projects (not documented);
  hubProjectEvents: "none" (default) | "delete": whether each project's delete emits its own event (not documented);
  projectRecoverWithoutHub: "allow" (default) | "refuse": a project's recover while its hub is not live (not documented);
  hubRecoverProjects: "no" (default) | "yes": whether a hub's recover brings back its soft-deleted projects (not
  documented).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from aiohttp import web

from . import ids, shapes
from .errors import ArmError, not_found
from .guards import ensure_unlocked
from .router import WS, Ctx, page, read_json_object, route
from .routes_ml import _ml_lro, _ws_id, require_workspace
from .routes_ml_children import child_routes

ML = shapes.ML
CHOICES = {"hubDeleteProjects": ("soft-delete", "purge"), "hubProjectEvents": ("none", "delete"),
           "projectRecoverWithoutHub": ("allow", "refuse"), "hubRecoverProjects": ("no", "yes")}


def _setting(state, name: str) -> str:
    return getattr(state, "kind_settings", {}).get(name, CHOICES[name][0])


def projects_of(state, hub_id: str) -> list[dict]:
    """Live workspaces whose properties.hubResourceId names the hub."""
    return [b for b in state.of_type(shapes.WS_TYPE)
            if ids.key((b.get("properties") or {}).get("hubResourceId") or "") == ids.key(hub_id)]


def decorate(state, out: dict) -> dict:
    """A hub's properties.associatedWorkspaces: its live projects (the spec has the field without a description; the
    simulator fills it with the projects that name the hub)."""
    if (out.get("kind") or "").lower() == "hub":
        out["properties"]["associatedWorkspaces"] = [p["id"] for p in projects_of(state, out["id"])]
    return out


def delete_projects(sim, hub: dict, purge: bool, info) -> None:
    """After a hub's delete: its projects go too (documented); soft-deleted or purged, with or without their own
    events, as the control API says (not documented)."""
    state = sim.state
    if (hub.get("kind") or "").lower() != "hub":
        return
    mode = "purge" if purge else _setting(state, "hubDeleteProjects")
    for project in projects_of(state, hub["id"]):
        if mode == "purge":
            state.delete_tree(project["id"])
        else:
            state.soft_delete(project["id"], datetime.now(timezone.utc), state.retention_days)
        if _setting(state, "hubProjectEvents") == "delete":
            sim.emit("delete", project["id"], f"{ML}/workspaces/delete", info)


def before_recover(state, workspace: dict) -> None:
    """A project's recover while its hub is not live: allowed or refused (400), as the control API says."""
    hub = (workspace.get("properties") or {}).get("hubResourceId")
    if hub and state.get(hub) is None and _setting(state, "projectRecoverWithoutHub") == "refuse":
        raise ArmError(400, "HubNotFound", f"The project's hub '{hub}' must be recovered first.", target=hub)


def after_recover(state, workspace: dict) -> list[str]:
    """A hub's recover brings back its soft-deleted projects or not, as the control API says; returns their ids."""
    if (workspace.get("kind") or "").lower() != "hub" or _setting(state, "hubRecoverProjects") == "no":
        return []
    back = [e["workspace"]["id"] for e in list(state.soft_deleted.values())
            if ids.key((e["workspace"].get("properties") or {}).get("hubResourceId") or "") == ids.key(workspace["id"])]
    return [state.recover(project)["id"] for project in back]


# ------------------------------------------------------------------ serverless endpoints
def _endpoint_id(ctx: Ctx) -> str:
    return f"{_ws_id(ctx)}/serverlessEndpoints/{ctx.params['name']}"


def serverless_endpoint(ws_id: str, location: str, name: str, props: dict) -> dict:
    """Shaped like examples/Workspace/ServerlessEndpoint/get.json."""
    model = (props.get("modelSettings") or {}).get("modelId") or "azureml://registries/azureml/models/Phi-4"
    return {"id": f"{ws_id}/serverlessEndpoints/{name}", "name": name, "type": f"{shapes.WS_TYPE}/serverlessEndpoints",
            "location": location, "kind": "", "tags": {}, "sku": {"name": "Consumption"},
            "properties": {"modelSettings": {"modelId": model}, "authMode": props.get("authMode", "Key"),
                           "inferenceEndpoint": {"uri": f"https://{name}.{location}.models.ai.azure.com"},
                           "provisioningState": "Succeeded", "endpointState": "Online",
                           "contentSafety": {"contentSafetyStatus": "Enabled"}},
            "systemData": shapes.system_data()}


def _build_serverless(ws: dict, name: str, payload: dict, existing: dict | None) -> tuple[dict, None]:
    """A PUT replaces the endpoint with the spec's shape (ServerlessEndpoints_CreateOrUpdate); it holds no secret."""
    return serverless_endpoint(ws["id"], ws["location"], name, payload.get("properties") or {}), None


async def delete_serverless(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    rid = _endpoint_id(ctx)
    if ctx.state.get(rid) is None:
        return web.Response(status=204)
    ensure_unlocked(ctx, rid)
    state, sim, info = ctx.state, ctx.sim, ctx.info

    def complete() -> tuple[int, None]:
        if state.get(rid) is not None:
            state.delete_tree(rid)
            sim.emit("delete", rid, f"{ML}/workspaces/serverlessEndpoints/delete", info)
        return 200, None

    return _ml_lro(ctx, "mfeOperationsStatus", ws["location"], complete)


# ------------------------------------------------------------------ managed network outbound rules
def _rules(ws: dict) -> list[dict]:
    """The workspace's properties.managedNetwork.outboundRules (a map of name to rule) as rule resources."""
    rules = ((ws.get("properties") or {}).get("managedNetwork") or {}).get("outboundRules") or {}
    return [{"id": f"{ws['id']}/outboundRules/{name}", "name": name, "type": f"{shapes.WS_TYPE}/outboundRules",
             "properties": {"status": "Active", "category": "UserDefined", **copy.deepcopy(rule)}}
            for name, rule in sorted(rules.items()) if isinstance(rule, dict)]


async def list_rules(ctx: Ctx) -> web.Response:
    return web.json_response(page(ctx, _rules(require_workspace(ctx)), ctx.state.page_sizes["default"], "$skipToken"))


async def get_rule(ctx: Ctx) -> web.Response:
    found = [r for r in _rules(require_workspace(ctx)) if r["name"].lower() == ctx.params["name"].lower()]
    if not found:
        raise not_found(f"{_ws_id(ctx)}/outboundRules/{ctx.params['name']}")
    return web.json_response(found[0])


def register_control(app: web.Application, sim) -> None:
    async def kinds(request: web.Request) -> web.Response:
        """`{name: choice}` for the CHOICES above; reset clears them."""
        body = await read_json_object(request, required=False)
        chosen = getattr(sim.state, "kind_settings", None)
        if chosen is None:
            chosen = sim.state.kind_settings = {}
        for name, value in body.items():
            if name not in CHOICES or value not in CHOICES[name]:
                raise ArmError(400, "InvalidSettings", f"{name} must be one of {CHOICES.get(name, ())}.")
            chosen[name] = value
        return web.json_response({name: _setting(sim.state, name) for name in CHOICES})

    app.router.add_post("/_sim/kinds", kinds)


ROUTES = [
    # ServerlessEndpoints_List / _Get / _CreateOrUpdate (examples/Workspace/ServerlessEndpoint/*.json): the workspace
    # children's generic list, get and put; ServerlessEndpoints_Delete is the LRO above
    *child_routes("serverlessEndpoints", "serverlessEndpoints", None, build=_build_serverless, delete=False),
    route("DELETE", WS + "/serverlessEndpoints/{name}", delete_serverless),
    route("GET", WS + "/outboundRules", list_rules),
    route("GET", WS + "/outboundRules/{name}", get_rule),
]
