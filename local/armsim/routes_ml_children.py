"""Microsoft.MachineLearningServices workspace children: computes, endpoints, jobs, datastores, PE connections."""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from aiohttp import web

from . import ids, shapes
from .control_scenarios import check_datastore_change
from .errors import ArmError, not_found
from .guards import ensure_unlocked
from .router import WS, Ctx, page, route
from .routes_ml import _ml_lro, _ws_id, require_workspace

ML = shapes.ML


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


Build = Callable[[dict, str, dict, dict | None], tuple[dict, dict | None]]


def child_routes(kind: str, page_key: str, delete_status_kind: str | None, *, build: Build | None = None,
                 delete: bool = True) -> list:
    """GET (list, paged), GET, PUT (200 replaced / 201 created, a write event) and DELETE (an LRO of
    `delete_status_kind`, or synchronous when None) of the workspace child type `kind`. `build(ws, name, payload,
    existing)` gives the stored body and its secrets (default: the shapes of this module); `delete=False` leaves the
    DELETE to the caller."""
    build = build or functools.partial(_build_child, kind)

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
        if kind == "datastores":
            check_datastore_change(ctx.state, existing, payload.get("properties") or {})
        body, secrets = build(ws, ctx.params["name"], payload, existing)
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
    routes = [route("GET", base, list_children), route("GET", base + "/{name}", get_child),
              route("PUT", base + "/{name}", put_child)]
    return routes + [route("DELETE", base + "/{name}", delete_child)] if delete else routes


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
    *child_routes("computes", "computes", "computeOperationsStatus"),
    *child_routes("onlineEndpoints", "onlineEndpoints", "mfeOperationsStatus"),
    *child_routes("batchEndpoints", "batchEndpoints", "mfeOperationsStatus"),
    *child_routes("jobs", "jobs", "mfeOperationsStatus"),
    *child_routes("datastores", "datastores", None),
    route("POST", WS + "/datastores/{name}/listSecrets", list_secrets),
    route("POST", WS + "/jobs/{name}/cancel", cancel_job),
    route("GET", WS + "/onlineEndpoints/{endpoint}/deployments", list_deployments),
    route("GET", WS + "/onlineEndpoints/{endpoint}/deployments/{name}", get_deployment),
    route("GET", WS + "/privateEndpointConnections", list_connections),
    route("GET", WS + "/privateEndpointConnections/{name}", get_connection),
    route("PUT", WS + "/privateEndpointConnections/{name}", put_connection),
    route("DELETE", WS + "/privateEndpointConnections/{name}", delete_connection),
]
