"""Microsoft.Resources groups, generic resources by id, resource lists and the move LROs."""
from __future__ import annotations

import re

from aiohttp import web

from . import ids, moves, routes_deleted, shapes
from .errors import ArmError, not_found
from .guards import ensure_unlocked, lock_error, require_group
from .router import RG, Ctx, page, route

_CLAUSE = re.compile(r"(\w+)\s+eq\s+'([^']*)'", re.I)
LIST_FIELDS = ("id", "name", "type", "location", "kind", "sku", "identity", "tags", "managedBy", "plan", "zones")


def _rg_id(ctx: Ctx) -> str:
    return ids.rg_id(ctx.params["sub"], ctx.params["rg"])


# ------------------------------------------------------------------ resource groups
async def get_group(ctx: Ctx) -> web.StreamResponse:
    if ctx.method == "HEAD":
        exists = ctx.state.subscription(ctx.params["sub"]) and ctx.state.group(ctx.params["sub"], ctx.params["rg"])
        return web.Response(status=204 if exists else 404)
    return web.json_response(require_group(ctx))


async def put_group(ctx: Ctx) -> web.Response:
    if ctx.state.subscription(ctx.params["sub"]) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    body = await ctx.json()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    existing = ctx.state.group(ctx.params["sub"], ctx.params["rg"])
    if existing is not None:
        ensure_unlocked(ctx, existing["id"])
        if existing["location"].replace(" ", "").lower() != location.replace(" ", "").lower():
            raise ArmError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{location}'. The Resource group already exists in "
                           f"location '{existing['location']}'.")
    group_id = existing["id"] if existing else _rg_id(ctx)
    saved = ctx.state.put_group(group_id, existing["location"] if existing else location,
                                body.get("tags", existing.get("tags") if existing else None), body.get("managedBy"))
    ctx.emit("write", saved["id"], "Microsoft.Resources/subscriptions/resourceGroups/write")
    return web.json_response(saved, status=200 if existing else 201)


async def delete_group(ctx: Ctx) -> web.Response:
    group = require_group(ctx)
    ensure_unlocked(ctx, group["id"])
    state, info = ctx.state, ctx.info

    def complete() -> tuple[int, None]:
        for body in state.in_group(ids.key(group["id"])):
            state.delete_tree(body["id"])
        state.groups.pop(ids.key(group["id"]), None)
        ctx.sim.emit("delete", group["id"], "Microsoft.Resources/subscriptions/resourceGroups/delete", info)
        return 200, None

    op = ctx.sim.operations.start(kind="resourceGroupDelete", api_version=ctx.api_version, complete=complete,
                                  status_path=f"/subscriptions/{ctx.params['sub']}/operationresults/{{id}}")
    group["properties"]["provisioningState"] = "Deleting"
    return ctx.sim.operations.accepted(op, ctx.base_url)


async def list_groups(ctx: Ctx) -> web.Response:
    if ctx.state.subscription(ctx.params["sub"]) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    prefix = f"/subscriptions/{ctx.params['sub']}/".lower()
    groups = sorted((g for k, g in ctx.state.groups.items() if k.startswith(prefix)), key=lambda g: g["name"].lower())
    return web.json_response(page(ctx, groups, ctx.state.page_sizes["default"]))


# ------------------------------------------------------------------ resource lists
def _filtered(ctx: Ctx, items: list[dict]) -> list[dict]:
    raw = ctx.q("$filter") or ""
    for field, value in _CLAUSE.findall(raw):
        field = field.lower()
        if field == "resourcetype":
            items = [b for b in items if (b.get("type") or "").lower() == value.lower()]
        elif field == "name":
            items = [b for b in items if b["name"].lower() == value.lower()]
        elif field == "location":
            items = [b for b in items if (b.get("location") or "").lower() == value.lower()]
        elif field == "resourcegroup":
            items = [b for b in items if (ids.resource_group_of(b["id"]) or ("", ""))[1].lower() == value.lower()]
        elif field in ("tagname", "tagvalue"):
            items = [b for b in items if value.lower() in [
                (t if field == "tagname" else v or "").lower() for t, v in (b.get("tags") or {}).items()]]
        else:
            raise ArmError(400, "InvalidFilterInQueryString", f"The $filter field '{field}' is not supported.")
    return items


def _list_item(body: dict, expand: str) -> dict:
    item = {f: body[f] for f in LIST_FIELDS if body.get(f) is not None}
    expand = expand.lower()
    if "provisioningstate" in expand:
        item["provisioningState"] = (body.get("properties") or {}).get("provisioningState", "Succeeded")
    if "createdtime" in expand or "changedtime" in expand:
        stamp = (body.get("systemData") or {}).get("createdAt") or shapes.now_iso()
        item.update({"createdTime": stamp, "changedTime": stamp})
    return item


async def list_in_group(ctx: Ctx) -> web.Response:
    group = require_group(ctx)
    items = _filtered(ctx, ctx.state.in_group(ids.key(group["id"])))
    expand = ctx.q("$expand") or ""
    return web.json_response(page(ctx, [_list_item(b, expand) for b in items], ctx.state.page_sizes["resources"]))


async def list_in_subscription(ctx: Ctx) -> web.Response:
    if ctx.state.subscription(ctx.params["sub"]) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    prefix = f"/subscriptions/{ctx.params['sub']}/".lower()
    items = sorted((b for k, b in ctx.state.resources.items() if k.startswith(prefix) and ids.is_top_level(k)),
                   key=lambda b: b["id"].lower())
    expand = ctx.q("$expand") or ""
    return web.json_response(page(ctx, [_list_item(b, expand) for b in _filtered(ctx, items)],
                                  ctx.state.page_sizes["resources"]))


# ------------------------------------------------------------------ generic resources by id
def _generic_path(ctx: Ctx) -> tuple[str, list[str]]:
    rest = [s for s in ctx.params["rest"].split("/") if s]
    return f"{_rg_id(ctx)}/providers/{'/'.join(rest)}", rest


async def generic(ctx: Ctx) -> web.StreamResponse:
    rid, rest = _generic_path(ctx)
    if len(rest) % 2 == 0:  # a collection: NS/type or NS/type/name/child
        if ctx.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"The method '{ctx.method}' is not allowed on a collection.")
        require_group(ctx)
        parent = "/".join(rid.split("/")[:-1]) if len(rest) > 2 else None
        if parent:
            items = ctx.state.children(parent, rest[-1])
        else:
            items = ctx.state.of_type(f"{rest[0]}/{rest[1]}", rg_key=ids.key(_rg_id(ctx)))
        return web.json_response(page(ctx, [ctx.state.public(b) for b in items], ctx.state.page_sizes["default"]))
    body = ctx.state.get(rid)
    if ctx.method == "HEAD":
        return web.Response(status=204 if body is not None else 404)
    if ctx.method == "GET":
        if body is None:
            require_group(ctx)
            raise not_found(rid)
        return web.json_response(ctx.state.public(body))
    if ctx.method == "DELETE":
        ensure_unlocked(ctx, rid)
        if body is None:
            return web.Response(status=204)
        ctx.state.delete_tree(rid)
        routes_deleted.keep_if_soft_deleted(ctx, body)
        ctx.emit("delete", body["id"], f"{ids.type_of(rid)}/delete")
        return web.Response(status=200)
    # PUT / PATCH
    require_group(ctx)
    ensure_unlocked(ctx, rid)
    payload = await ctx.json()
    if ctx.method == "PATCH":
        if body is None:
            raise not_found(rid)
        for field in ("tags", "sku", "identity", "kind"):
            if field in payload:
                body[field] = payload[field]
        body["properties"] = {**body.get("properties", {}), **(payload.get("properties") or {})}
        ctx.emit("write", body["id"], f"{ids.type_of(rid)}/write")
        return web.json_response(ctx.state.public(body))
    if ids.is_top_level(rid) and not payload.get("location") and body is None:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    saved = shapes.generic({**payload, "id": body["id"] if body else rid,
                            "location": payload.get("location") or (body or {}).get("location")})
    ctx.state.put(saved)
    ctx.state.deleted_resources.pop(ids.key(saved["id"]), None)  # re-created or recovered: no longer deleted
    ctx.emit("write", saved["id"], f"{ids.type_of(rid)}/write")
    return web.json_response(ctx.state.public(saved), status=200 if body else 201)


async def list_type_in_subscription(ctx: Ctx) -> web.Response:
    if ctx.state.subscription(ctx.params["sub"]) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    items = ctx.state.of_type(f"{ctx.params['ns']}/{ctx.params['type']}", subscription_id=ctx.params["sub"])
    return web.json_response(page(ctx, [ctx.state.public(b) for b in items], ctx.state.page_sizes["default"]))


# ------------------------------------------------------------------ moves
async def _move_request(ctx: Ctx) -> moves.MoveRequest:
    return moves.parse(ctx.state, ctx.params["sub"], ctx.params["rg"], await ctx.json())


async def validate_move(ctx: Ctx) -> web.Response:
    req = await _move_request(ctx)
    state, sim, info = ctx.state, ctx.sim, ctx.info

    def complete() -> tuple[int, None]:
        details = moves.reasons(state, req)
        if details:
            raise moves.validation_error(req, details)
        sim.emit("action", req.source_rg_id, "Microsoft.Resources/subscriptions/resourceGroups/validateMoveResources/action", info)
        return 204, None

    # "The validation may take several minutes" (validateMoveResources, REST reference): validationSeconds makes it so.
    op = sim.operations.start(kind="validateMoveResources", api_version=ctx.api_version, complete=complete,
                              status_path=f"/subscriptions/{req.source_sub}/operationresults/{{id}}",
                              details={"resources": list(req.resources), "target": req.target_rg_id},
                              min_seconds=lambda: sim.state.validation_seconds)
    return sim.operations.accepted(op, ctx.base_url)


async def move(ctx: Ctx) -> web.Response:
    req = await _move_request(ctx)
    state, sim, info = ctx.state, ctx.sim, ctx.info
    for group_id in (req.source_rg_id, req.target_rg_id):
        if state.lock_of(group_id):
            raise lock_error(group_id)
    failure = None
    injected = state.move_failures.pop(0) if state.move_failures else None
    if injected is not None:  # `{}` (count only, no field given) is a failure too
        # status 500: the operation URL keeps answering the same 5xx, as ARM does for a failed operation's error.
        failure = ArmError(int(injected.get("status") or 409), injected.get("code") or "ResourceMoveFailed",
                           injected.get("message") or "The move operation failed; no resource was moved.",
                           details=[{"code": injected.get("detailCode") or "ResourceMoveFailed", "target": r,
                                     "message": "The resource provider failed to complete the move."} for r in req.resources])
    holder: dict = {}

    def complete() -> tuple[int, None]:
        details = moves.reasons(state, req, own_operation=holder["op"].id)
        if details:
            raise moves.validation_error(req, details)
        holder["op"].details["mapping"] = moves.execute(state, req)
        sim.emit("action", req.source_rg_id, "Microsoft.Resources/subscriptions/resourceGroups/moveResources/action", info)
        return 204, None

    op = sim.operations.start(kind="moveResources", api_version=ctx.api_version, complete=complete, failure=failure,
                              fail_after=injected.get("afterPolls") if injected else None,
                              status_path=f"/subscriptions/{req.source_sub}/operationresults/{{id}}",
                              details={"resources": list(req.resources), "target": req.target_rg_id})
    holder["op"] = op
    state.lock([ids.key(req.source_rg_id)] + ([ids.key(req.target_rg_id)] if state.group(req.target_sub, req.target_group) else []), op.id)
    return sim.operations.accepted(op, ctx.base_url)


async def operation_result(ctx: Ctx) -> web.Response:
    return ctx.sim.operations.poll(ctx.params["op"], ctx.base_url)


ROUTES = [
    route("GET", "/subscriptions/{sub}/operationresults/{op}", operation_result),
    route("GET", "/subscriptions/{sub}/providers/{ns}/locations/{loc}/{kind}/{op}", operation_result),
    route("GET", "/subscriptions/{sub}/resources", list_in_subscription),
    route("GET", "/subscriptions/{sub}/resourcegroups", list_groups),
    route("GET,HEAD", RG, get_group),
    route("PUT", RG, put_group),
    route("DELETE", RG, delete_group),
    route("GET", RG + "/resources", list_in_group),
    route("POST", RG + "/validateMoveResources", validate_move),
    route("POST", RG + "/moveResources", move),
    route("GET", "/subscriptions/{sub}/providers/{ns}/{type}", list_type_in_subscription),
    route("GET,HEAD,PUT,PATCH,DELETE", RG + "/providers/{rest*}", generic),
]
