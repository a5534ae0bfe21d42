"""Microsoft.MachineLearningServices 2025-09-01: workspaces (create, soft delete, purge of a live one)."""
from __future__ import annotations

import copy
import uuid
from datetime import datetime, timezone

from aiohttp import web

from . import ids, shapes
from .errors import HELD_NAME_MESSAGE, ArmError, not_found
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
    from .routes_ml_kinds import decorate  # a hub's associatedWorkspaces

    return decorate(ctx.state, out)


def soft_deleted_error(resource_id: str) -> ArmError:
    # concept-soft-delete: "Any other operations on the workspace, like submitting a training job, will fail."
    # Recover and permanently delete are done in the portal / studio (Recently deleted); no REST operation is
    # documented, so the simulator offers them on its control API only (/_sim/workspaces/recover|purge).
    return ArmError(409, "WorkspaceSoftDeleted",
                    f"The workspace '{resource_id}' is soft-deleted. Recover or permanently delete it (Azure ML "
                    "studio or portal: Recently deleted workspaces); every other operation is refused.",
                    target=resource_id)


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
    if blocked is not None and ctx.state.get(ws_id) is None:
        # A refused create is a failed write: Event Grid's ResourceWriteFailure (no error text in its data, per the
        # event schema) and a Failed Activity Log entry.
        ctx.sim.log_operation(ws_id, f"{ML}/workspaces/write", ctx.info).finish(400)
        ctx.emit("writeFailure", ws_id, f"{ML}/workspaces/write")
        return held_name(ctx, location)
    existing = ctx.state.get(ws_id)
    props = payload.get("properties") or {}
    if existing is None:
        sub = ctx.state.subscription(ctx.params["sub"])
        spec = {**{k: props.get(k) for k in ("storageAccount", "keyVault", "applicationInsights", "containerRegistry",
                                             "friendlyName", "description", "publicNetworkAccess") if props.get(k)},
                "id": ws_id, "location": payload["location"], "tags": payload.get("tags"), "kind": payload.get("kind", "Default"),
                "workspaceId": str(uuid.uuid4()),  # a new workspace, a new internal id (even under a re-used name)
                "properties": {k: v for k, v in props.items() if k not in ("encryption", "privateEndpointConnections")},
                "identity": payload.get("identity")}
        if props.get("encryption", {}).get("status") == "Enabled":
            kv = props["encryption"].get("keyVaultProperties") or {}
            spec["encryption"] = {"keyVaultArmId": kv.get("keyVaultArmId"), "keyIdentifier": kv.get("keyIdentifier"),
                                  "identityClientId": kv.get("identityClientId", "")}
        try:
            body = shapes.workspace(spec, sub["tenantId"])  # `identity` as asked (Workspaces_CreateOrUpdate body)
        except ValueError as exc:
            raise ArmError(400, "BadRequest", f"Invalid identity: {exc}.", target="identity") from None
        body["_sim"] = {"afterMove": {}}
        ctx.state.put(body)
        del group
    else:
        if existing["location"].replace(" ", "").lower() != location:
            raise ArmError(400, "InvalidLocation", "The location of an existing workspace cannot be changed.")
        body = existing
        for field in ("tags", "sku"):
            if field in payload:
                body[field] = payload[field]
        if "identity" in payload:
            try:
                body["identity"] = shapes.managed_identity(payload["identity"], ws_id, body["identity"].get("tenantId")
                                                           or ctx.state.tenant_of(ctx.params["sub"]))
            except ValueError as exc:
                raise ArmError(400, "BadRequest", f"Invalid identity: {exc}.", target="identity") from None
        for field, value in props.items():
            if field not in ("privateEndpointConnections", "provisioningState", "workspaceId"):
                body["properties"][field] = copy.deepcopy(value)
        body["systemData"]["lastModifiedAt"] = shapes.now_iso()
    ctx.sim.log_operation(body["id"], f"{ML}/workspaces/write", ctx.info).finish(200)
    ctx.emit("write", body["id"], f"{ML}/workspaces/write")
    return web.json_response(render_workspace(ctx, body), status=200)


def held_name(ctx: Ctx, location: str) -> web.Response:
    """A create under a name a soft-deleted workspace of the subscription holds. concept-soft-delete: "You can't reuse
    the name of a workspace that has been soft deleted until the retention period has passed or you permanently delete
    the workspace"; Azure answers code BadRequest with HELD_NAME_MESSAGE (field reports Azure/CanadaPubSecALZ#380,
    Azure/ResourceModules#3596). When is not documented: `heldNameAnswer` "sync" (default) refuses the PUT with 400;
    "async" accepts it (202) and ends its operation with that error, as #3596's "reached terminal provisioning state
    'Failed'" shows. Either way nothing is created; a PUT never recovers (that is Log Analytics' contract)."""
    error = ArmError(400, "BadRequest", HELD_NAME_MESSAGE)
    if ctx.state.held_name_answer == "sync":
        raise error

    def fail() -> tuple[int, None]:
        raise error

    return _ml_lro(ctx, "workspaceOperationsStatus", location, fail)


async def delete_workspace(ctx: Ctx) -> web.Response:
    require_group(ctx)
    ws_id = _ws_id(ctx)
    purge = (ctx.q("forceToPurge") or "").lower() in PURGE_TRUE
    state, sim, info = ctx.state, ctx.sim, ctx.info
    live = state.get(ws_id)
    logged = sim.log_operation(ws_id, f"{ML}/workspaces/delete", info)
    if live is None:
        if purge and ids.key(ws_id) in state.soft_deleted:
            return _purge_soft_deleted(ctx, ws_id, logged)
        # Workspaces_Delete 204: "the resource does not exist" (GET answers 404 for a soft-deleted one too).
        logged.finish(204)
        return web.Response(status=204)
    ensure_unlocked(ctx, ws_id)
    live["properties"]["provisioningState"] = "Deleting"
    logged.finish(202)

    def complete() -> tuple[int, None]:
        body = state.get(ws_id)
        if body is None:
            return 200, None
        if purge or shapes.user_assigned_only(body):  # concept-soft-delete: no soft delete for UAI-only workspaces
            state.delete_tree(ws_id)
        else:
            body["properties"]["provisioningState"] = "Succeeded"
            state.soft_delete(ws_id, datetime.now(timezone.utc), state.retention_days)
        sim.emit("delete", body["id"], f"{ML}/workspaces/delete", info)
        from .routes_ml_kinds import delete_projects  # a hub's delete deletes its projects (documented)

        delete_projects(sim, body, purge, info)
        logged.finish(200)
        return 200, None

    return _ml_lro(ctx, "workspaceOperationsStatus", live["location"], complete)


def _purge_soft_deleted(ctx: Ctx, ws_id: str, logged) -> web.Response:
    """DELETE ?forceToPurge=true of a soft-deleted workspace. The spec (Workspaces_Delete, 2025-09-01) documents the
    parameter, not this case; public reports (Azure/azure-cli#33756, Azure/ResourceModules#3596) say the raw call
    reaches workspaces the SDK cannot find, and that a 204 is not always proof the name is free. `purgeMode` picks:
    `purge` (200, the soft-deleted workspace is gone), `held204` (204, the name stays held: the spec's "does not
    exist" answer), `notFound` (404)."""
    mode = ctx.sim.purge_mode
    if mode == "notFound":
        logged.finish(404)
        raise not_found(ws_id, "Workspace")
    if mode == "held204":
        logged.finish(204)
        return web.Response(status=204)
    entry = ctx.state.purge(ws_id)
    logged.finish(200)
    ctx.emit("delete", entry["workspace"]["id"], f"{ML}/workspaces/delete")
    return web.Response(status=200)


ROUTES = [
    route("GET", f"/subscriptions/{{sub}}/providers/{ML}/workspaces", list_workspaces_sub),
    route("GET", f"{RG}/providers/{ML}/workspaces", list_workspaces_rg),
    route("GET", WS, get_workspace),
    route("PUT", WS, put_workspace),
    route("DELETE", WS, delete_workspace),
]
