"""Microsoft.MachineLearningServices 2025-09-01: workspaces (soft delete, purge, recover) and their children."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from aiohttp import web

from . import ids, shapes
from .errors import ArmError, not_found
from .guards import ensure_unlocked, require_group
from .router import RG, WS, Ctx, page, route

ML = shapes.ML
PURGE_TRUE = ("true", "1")


def _ws_id(ctx: Ctx) -> str:
    return f"{ids.rg_id(ctx.params['sub'], ctx.params['rg'])}/providers/{ML}/workspaces/{ctx.params['ws']}"


def render_workspace(ctx: Ctx, body: dict) -> dict:
    out = ctx.state.public(body)
    connections = [ctx.state.public(c) for c in ctx.state.children(body["id"], "privateEndpointConnections")]
    out["properties"]["privateEndpointConnections"] = connections
    out["properties"]["privateLinkCount"] = len(connections)
    return out


def soft_deleted_error(resource_id: str) -> ArmError:
    return ArmError(409, "WorkspaceSoftDeleted",
                    f"The workspace '{resource_id}' is soft-deleted. Recover it (PUT the workspace again in the same "
                    "resource group and location) or purge it (DELETE with forceToPurge=true); every other operation "
                    "is refused.", target=resource_id)


def require_workspace(ctx: Ctx) -> dict:
    """The live workspace of the path; 404 if absent, 409 if it is soft-deleted."""
    require_group(ctx)
    ws_id = _ws_id(ctx)
    body = ctx.state.get(ws_id)
    if body is None:
        if ids.key(ws_id) in ctx.state.soft_deleted:
            raise soft_deleted_error(ctx.state.soft_deleted[ids.key(ws_id)]["workspace"]["id"])
        raise not_found(ws_id, "Workspace")
    return body


def _ml_lro(ctx: Ctx, kind: str, location: str, complete) -> web.Response:
    op = ctx.sim.operations.start(
        kind=kind, api_version=ctx.api_version, complete=complete,
        status_path=f"/subscriptions/{ctx.params['sub']}/providers/{ML}/locations/{location}/{kind}/{{id}}")
    return ctx.sim.operations.accepted(op, ctx.base_url)


# ------------------------------------------------------------------ workspaces
async def list_workspaces_rg(ctx: Ctx) -> web.Response:
    group = require_group(ctx)
    items = ctx.state.of_type(shapes.WS_TYPE, rg_key=ids.key(group["id"]))
    return web.json_response(page(ctx, [render_workspace(ctx, b) for b in items], ctx.state.page_sizes["default"], "$skip"))


async def list_workspaces_sub(ctx: Ctx) -> web.Response:
    if ctx.state.subscription(ctx.params["sub"]) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    items = ctx.state.of_type(shapes.WS_TYPE, subscription_id=ctx.params["sub"])
    return web.json_response(page(ctx, [render_workspace(ctx, b) for b in items], ctx.state.page_sizes["default"], "$skip"))


async def get_workspace(ctx: Ctx) -> web.Response:
    require_group(ctx)
    body = ctx.state.get(_ws_id(ctx))
    if body is None:  # soft-deleted workspaces are invisible to GET
        raise not_found(_ws_id(ctx), "Workspace")
    return web.json_response(render_workspace(ctx, body))


async def put_workspace(ctx: Ctx) -> web.Response:
    group = require_group(ctx)
    ws_id = _ws_id(ctx)
    ensure_unlocked(ctx, ws_id)
    payload = await ctx.json()
    location = (payload.get("location") or "").replace(" ", "").lower()
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    blocked = ctx.state.soft_deleted_named(ctx.params["sub"], ctx.params["ws"])
    if blocked is not None:
        old = blocked["workspace"]
        if ids.key(old["id"]) == ids.key(ws_id) and old["location"].replace(" ", "").lower() == location:
            return _recover(ctx, old)
        raise ArmError(409, "SoftDeletedWorkspaceNameConflict",
                       f"The workspace name '{ctx.params['ws']}' is reserved by the soft-deleted workspace '{old['id']}' "
                       f"(location '{old['location']}', scheduled purge {blocked['scheduledPurgeDate']}). Recover it in "
                       "its resource group and location, or purge it, before re-using the name.", target=old["id"])
    existing = ctx.state.get(ws_id)
    props = payload.get("properties") or {}
    if existing is None:
        sub = ctx.state.subscription(ctx.params["sub"])
        spec = {**{k: props.get(k) for k in ("storageAccount", "keyVault", "applicationInsights", "containerRegistry",
                                             "friendlyName", "description", "publicNetworkAccess") if props.get(k)},
                "id": ws_id, "location": payload["location"], "tags": payload.get("tags"), "kind": payload.get("kind", "Default"),
                "properties": {k: v for k, v in props.items() if k not in ("encryption", "privateEndpointConnections")}}
        if props.get("encryption", {}).get("status") == "Enabled":
            kv = props["encryption"].get("keyVaultProperties") or {}
            spec["encryption"] = {"keyVaultArmId": kv.get("keyVaultArmId"), "keyIdentifier": kv.get("keyIdentifier"),
                                  "identityClientId": kv.get("identityClientId", "")}
        body = shapes.workspace(spec, sub["tenantId"])
        body["_sim"] = {"afterMove": {}}
        ctx.state.put(body)
        del group
    else:
        if existing["location"].replace(" ", "").lower() != location:
            raise ArmError(400, "InvalidLocation", "The location of an existing workspace cannot be changed.")
        body = existing
        for field in ("tags", "sku", "identity"):
            if field in payload:
                body[field] = payload[field]
        for field, value in props.items():
            if field not in ("privateEndpointConnections", "provisioningState", "workspaceId"):
                body["properties"][field] = copy.deepcopy(value)
        body["systemData"]["lastModifiedAt"] = shapes.now_iso()
    ctx.emit("write", body["id"], f"{ML}/workspaces/write")
    return web.json_response(render_workspace(ctx, body), status=200)


def _recover(ctx: Ctx, old: dict) -> web.Response:
    missing = [old["properties"].get(dep) for dep in ("storageAccount", "keyVault", "applicationInsights")
               if old["properties"].get(dep) and ctx.state.get(old["properties"][dep]) is None]
    if missing:
        raise ArmError(400, "WorkspaceDependenciesNotFound",
                       "The workspace cannot be recovered until its dependent resources exist again.",
                       details=[{"code": "ResourceNotFound", "target": m, "message": f"'{m}' was not found."} for m in missing])
    body = ctx.state.recover(old["id"])
    ctx.emit("write", body["id"], f"{ML}/workspaces/write")
    return web.json_response(render_workspace(ctx, body), status=200)


async def delete_workspace(ctx: Ctx) -> web.Response:
    require_group(ctx)
    ws_id = _ws_id(ctx)
    purge = (ctx.q("forceToPurge") or "").lower() in PURGE_TRUE
    state, sim, info = ctx.state, ctx.sim, ctx.info
    live = state.get(ws_id)
    if live is None:
        entry = state.soft_deleted.get(ids.key(ws_id))
        if entry is None:
            return web.Response(status=204)
        if not purge:
            raise soft_deleted_error(entry["workspace"]["id"])
        ensure_unlocked(ctx, ws_id)

        def purge_soft_deleted() -> tuple[int, None]:
            if state.purge(ws_id) is not None:
                sim.emit("delete", entry["workspace"]["id"], f"{ML}/workspaces/delete", info)
            return 200, None

        return _ml_lro(ctx, "workspaceOperationsStatus", entry["workspace"]["location"], purge_soft_deleted)
    ensure_unlocked(ctx, ws_id)
    live["properties"]["provisioningState"] = "Deleting"

    def complete() -> tuple[int, None]:
        body = state.get(ws_id)
        if body is None:
            return 200, None
        if purge:
            state.delete_tree(ws_id)
        else:
            body["properties"]["provisioningState"] = "Succeeded"
            state.soft_delete(ws_id, datetime.now(timezone.utc), state.retention_days)
        sim.emit("delete", body["id"], f"{ML}/workspaces/delete", info)
        return 200, None

    return _ml_lro(ctx, "workspaceOperationsStatus", live["location"], complete)


# ------------------------------------------------------------------ children (computes, endpoints, jobs, datastores)
def _child_id(ctx: Ctx, kind: str) -> str:
    return f"{_ws_id(ctx)}/{kind}/{ctx.params['name']}"


def _deep_merge(dst: dict, src: dict) -> dict:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def _build_child(kind: str, ws: dict, name: str, payload: dict, existing: dict | None) -> tuple[dict, dict | None]:
    props = copy.deepcopy(payload.get("properties") or {})
    location = payload.get("location") or ws["location"]
    if kind == "datastores":
        spec = {"name": name, "properties": props, "credentials": props.get("credentials")}
        return shapes.datastore(ws["id"], spec)
    if existing is not None:
        body = copy.deepcopy(existing)
    elif kind == "computes":
        body = shapes.compute(ws["id"], location, {"name": name, "computeType": props.get("computeType", "AmlCompute")})
    elif kind == "onlineEndpoints":
        body = shapes.online_endpoint(ws["id"], location, {"name": name})
    elif kind == "batchEndpoints":
        body = shapes.batch_endpoint(ws["id"], location, {"name": name})
    else:
        body = shapes.job(ws["id"], {"name": name, "jobType": props.get("jobType", "Command"), "status": "Starting"})
    _deep_merge(body["properties"], props)
    for field in ("tags", "identity", "sku", "kind"):
        if field in payload:
            body[field] = copy.deepcopy(payload[field])
    body.setdefault("systemData", shapes.system_data())["lastModifiedAt"] = shapes.now_iso()
    return body, None


def _child_routes(kind: str, page_key: str, delete_status_kind: str | None) -> list:
    async def list_children(ctx: Ctx) -> web.Response:
        ws = require_workspace(ctx)
        items = ctx.state.children(ws["id"], kind)
        if kind == "jobs":
            view = (ctx.q("listViewType") or "ActiveOnly").lower()
            if view == "activeonly":
                items = [j for j in items if not j["properties"].get("isArchived")]
            elif view == "archivedonly":
                items = [j for j in items if j["properties"].get("isArchived")]
            if ctx.q("jobType"):
                items = [j for j in items if j["properties"].get("jobType", "").lower() == ctx.q("jobType").lower()]
        if kind == "datastores" and ctx.q("isDefault") is not None:
            wanted = ctx.q("isDefault").lower() == "true"
            items = [d for d in items if bool(d["properties"].get("isDefault")) == wanted]
        size = ctx.state.page_sizes.get(page_key, ctx.state.page_sizes["default"])
        if kind == "datastores" and (ctx.q("count") or "").isdigit():
            size = int(ctx.q("count"))
        return web.json_response(page(ctx, [ctx.state.public(b) for b in items], size))

    async def get_child(ctx: Ctx) -> web.Response:
        require_workspace(ctx)
        body = ctx.state.get(_child_id(ctx, kind))
        if body is None:
            raise not_found(_child_id(ctx, kind))
        return web.json_response(ctx.state.public(body))

    async def put_child(ctx: Ctx) -> web.Response:
        ws = require_workspace(ctx)
        rid = _child_id(ctx, kind)
        ensure_unlocked(ctx, rid)
        payload = await ctx.json()
        existing = ctx.state.get(rid)
        body, secrets = _build_child(kind, ws, ctx.params["name"], payload, existing)
        if kind == "datastores":
            key = ids.key(rid)
            if secrets is not None:
                ctx.state.secrets[key] = secrets
            elif existing is None or existing["properties"]["credentials"].get("credentialsType") != \
                    body["properties"]["credentials"].get("credentialsType"):
                ctx.state.secrets.pop(key, None)
            elif key in ctx.state.secrets:
                body["properties"]["credentials"]["secrets"] = {
                    "secretsType": ctx.state.secrets[key].get("secretsType")}
        ctx.state.put(body)
        ctx.emit("write", body["id"], f"{ids.type_of(rid)}/write")
        return web.json_response(ctx.state.public(body), status=200 if existing else 201)

    async def delete_child(ctx: Ctx) -> web.Response:
        ws = require_workspace(ctx)
        rid = _child_id(ctx, kind)
        if ctx.state.get(rid) is None:
            return web.Response(status=204)
        ensure_unlocked(ctx, rid)
        state, sim, info = ctx.state, ctx.sim, ctx.info

        def complete() -> tuple[int, None]:
            if state.get(rid) is not None:
                canonical = state.get(rid)["id"]
                state.delete_tree(rid)
                sim.emit("delete", canonical, f"{ids.type_of(rid)}/delete", info)
            return 200, None

        if delete_status_kind is None:
            complete()
            return web.Response(status=200)
        state.get(rid)["properties"]["provisioningState"] = "Deleting"
        return _ml_lro(ctx, delete_status_kind, ws["location"], complete)

    base = f"{WS}/{kind}"
    return [route("GET", base, list_children), route("GET", base + "/{name}", get_child),
            route("PUT", base + "/{name}", put_child), route("DELETE", base + "/{name}", delete_child)]


async def list_secrets(ctx: Ctx) -> web.Response:
    require_workspace(ctx)
    rid = _child_id(ctx, "datastores")
    body = ctx.state.get(rid)
    if body is None:
        raise not_found(rid)
    secrets = ctx.state.secrets.get(ids.key(rid))
    if secrets is None:
        raise ArmError(400, "UserError", f"The datastore '{ctx.params['name']}' has no secrets.")
    ctx.emit("action", body["id"], f"{ML}/workspaces/datastores/listSecrets/action")
    return web.json_response(copy.deepcopy(secrets))


async def cancel_job(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    rid = _child_id(ctx, "jobs")
    job = ctx.state.get(rid)
    if job is None:
        raise not_found(rid)
    state, sim, info = ctx.state, ctx.sim, ctx.info

    def complete() -> tuple[int, None]:
        if state.get(rid) is not None and state.get(rid)["properties"]["status"] not in shapes.TERMINAL_JOB_STATES:
            state.get(rid)["properties"]["status"] = "Canceled"
            sim.emit("action", state.get(rid)["id"], f"{ML}/workspaces/jobs/cancel/action", info)
        return 200, None

    if job["properties"]["status"] not in shapes.TERMINAL_JOB_STATES:
        job["properties"]["status"] = "CancelRequested"
    return _ml_lro(ctx, "mfeOperationResults", ws["location"], complete)


async def list_deployments(ctx: Ctx) -> web.Response:
    require_workspace(ctx)
    endpoint_id = f"{_ws_id(ctx)}/onlineEndpoints/{ctx.params['endpoint']}"
    if ctx.state.get(endpoint_id) is None:
        raise not_found(endpoint_id)
    items = [ctx.state.public(b) for b in ctx.state.children(endpoint_id, "deployments")]
    return web.json_response(page(ctx, items, ctx.state.page_sizes["default"]))


async def get_deployment(ctx: Ctx) -> web.Response:
    require_workspace(ctx)
    rid = f"{_ws_id(ctx)}/onlineEndpoints/{ctx.params['endpoint']}/deployments/{ctx.params['name']}"
    body = ctx.state.get(rid)
    if body is None:
        raise not_found(rid)
    return web.json_response(ctx.state.public(body))


# ------------------------------------------------------------------ private endpoint connections
def _connection_id(ctx: Ctx) -> str:
    return f"{_ws_id(ctx)}/privateEndpointConnections/{ctx.params['name']}"


async def list_connections(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    return web.json_response({"value": [ctx.state.public(c) for c in ctx.state.children(ws["id"], "privateEndpointConnections")]})


async def get_connection(ctx: Ctx) -> web.Response:
    require_workspace(ctx)
    body = ctx.state.get(_connection_id(ctx))
    if body is None:
        raise not_found(_connection_id(ctx), "PrivateEndpointConnection")
    return web.json_response(ctx.state.public(body))


async def put_connection(ctx: Ctx) -> web.Response:
    require_workspace(ctx)
    rid = _connection_id(ctx)
    body = ctx.state.get(rid)
    if body is None:
        raise not_found(rid, "PrivateEndpointConnection")
    ensure_unlocked(ctx, rid)
    payload = await ctx.json()
    wanted = ((payload.get("properties") or {}).get("privateLinkServiceConnectionState") or {})
    status = wanted.get("status")
    if status not in ("Approved", "Rejected", "Pending", "Disconnected", "Timeout"):
        raise ArmError(400, "InvalidPrivateEndpointConnectionStatus",
                       f"privateLinkServiceConnectionState.status '{status}' is not valid.")
    state = body["properties"]["privateLinkServiceConnectionState"]
    state.update({"status": status, "description": wanted.get("description", state.get("description", "")),
                  "actionsRequired": wanted.get("actionsRequired", "None")})
    ctx.emit("write", body["id"], f"{ML}/workspaces/privateEndpointConnections/write")
    return web.json_response(ctx.state.public(body), status=200)


async def delete_connection(ctx: Ctx) -> web.Response:
    require_workspace(ctx)
    rid = _connection_id(ctx)
    body = ctx.state.get(rid)
    if body is None:
        return web.Response(status=204)
    ensure_unlocked(ctx, rid)
    ctx.state.delete_tree(rid)
    ctx.emit("delete", body["id"], f"{ML}/workspaces/privateEndpointConnections/delete")
    return web.Response(status=200)


ROUTES = [
    route("GET", f"/subscriptions/{{sub}}/providers/{ML}/workspaces", list_workspaces_sub),
    route("GET", f"{RG}/providers/{ML}/workspaces", list_workspaces_rg),
    route("GET", WS, get_workspace),
    route("PUT", WS, put_workspace),
    route("DELETE", WS, delete_workspace),
    *_child_routes("computes", "computes", "computeOperationsStatus"),
    *_child_routes("onlineEndpoints", "onlineEndpoints", "mfeOperationsStatus"),
    *_child_routes("batchEndpoints", "batchEndpoints", "mfeOperationsStatus"),
    *_child_routes("jobs", "jobs", "mfeOperationsStatus"),
    *_child_routes("datastores", "datastores", None),
    route("POST", WS + "/datastores/{name}/listSecrets", list_secrets),
    route("POST", WS + "/jobs/{name}/cancel", cancel_job),
    route("GET", WS + "/onlineEndpoints/{endpoint}/deployments", list_deployments),
    route("GET", WS + "/onlineEndpoints/{endpoint}/deployments/{name}", get_deployment),
    route("GET", WS + "/privateEndpointConnections", list_connections),
    route("GET", WS + "/privateEndpointConnections/{name}", get_connection),
    route("PUT", WS + "/privateEndpointConnections/{name}", put_connection),
    route("DELETE", WS + "/privateEndpointConnections/{name}", delete_connection),
]
