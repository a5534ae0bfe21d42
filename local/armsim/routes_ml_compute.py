"""Computes, online endpoints and deployments created and deleted as long-running operations (2025-09-01 shapes).

Contracts followed (Azure/azure-rest-api-specs, specification/machinelearningservices/resource-manager/
Microsoft.MachineLearningServices/stable/2025-09-01):
* machineLearningServices.json `Compute_CreateOrUpdate` and examples/Compute/createOrUpdate/ComputeInstance.json:
  200 (update) or 201 (create) with the resource in provisioningState `Creating` and an `Azure-AsyncOperation`
  header; `Compute_Delete` and examples/Compute/delete.json: `underlyingResourceAction` (Delete or Detach),
  200 / 202 with `Azure-AsyncOperation` and `Location` / 204.
* mfe.json `OnlineEndpoints_CreateOrUpdate` / `OnlineDeployments_CreateOrUpdate` and
  examples/OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json: 200 / 201 with provisioningState
  `Creating` and `Azure-AsyncOperation`; deletes 202 + `Location` + `Retry-After`, then 200 / 204.
* The Azure-AsyncOperation body is ARM's async operation resource (`status` InProgress / Succeeded / Failed,
  `error` on failure): Azure Resource Manager RPC, "Azure-AsyncOperation resource format".
* Known issue "After a workspace move, creating a compute instance with the same name as a previous compute
  instance will fail" (learn.microsoft.com/azure/machine-learning/known-issues/workspace-move-compute-instance-
  same-name): a PUT of a compute instance named like one deleted before the workspace moved answers 409 (Etag
  conflict). The same name in the workspace it was deleted from (no move in between) is accepted.
"""
from __future__ import annotations

import copy
import uuid

from aiohttp import web

from . import ids, shapes
from .errors import ArmError, not_found
from .guards import ensure_unlocked
from .router import WS, Ctx, read_json_object, route
from .routes_ml import _ml_lro, _ws_id, require_workspace

ML = shapes.ML
# computeType values that attach an existing resource (ComputeResource in machineLearningServices.json).
ATTACHED_TYPES = frozenset({"aks", "kubernetes", "virtualmachine", "hdinsight", "datafactory", "databricks",
                            "datalakeanalytics", "synapsespark"})
_ASYNC_KIND = "mlAsyncOperations"


def _settings(state: object) -> dict:
    """How creates complete (control API `POST /_sim/ml/creations`); kept on the state so a reset restores them.

    The spec allows both a 200 / 201 already `Succeeded` and one still `Creating` with an Azure-AsyncOperation
    (machineLearningServices.json / mfe.json document both codes, not which one a given create gets): `mode`
    "async" (default) or "sync". `failNext`: the next N creations end `Failed` (the operation and the resource).
    """
    return state.__dict__.setdefault("ml_creation_settings", {"mode": "async", "failNext": 0})


def register_control(app: web.Application, sim: object) -> None:
    async def set_creations(request: web.Request) -> web.Response:
        body = await read_json_object(request, required=False)
        settings = _settings(sim.state)
        mode = body.get("mode", settings["mode"])
        fail_next = body.get("failNext", settings["failNext"])
        if mode not in ("async", "sync") or not isinstance(fail_next, int) or fail_next < 0:
            raise ArmError(400, "InvalidSetting", "mode must be async or sync; failNext a count >= 0.")
        settings.update(mode=mode, failNext=fail_next)
        return web.json_response(settings)

    app.router.add_post("/_sim/ml/creations", set_creations)


def _creations(ctx: Ctx) -> dict:
    """Running creations by operation id: {rid, remaining, failure}; kept on the state so a reset clears them."""
    return ctx.state.__dict__.setdefault("ml_creations", {})


def _start_creation(ctx: Ctx, rid: str, location: str) -> dict[str, str]:
    """Headers of a create's answer; in "sync" mode the resource is Succeeded at once and there is no operation."""
    settings = _settings(ctx.state)
    fail = settings["failNext"] > 0
    settings["failNext"] -= 1 if fail else 0
    if settings["mode"] == "sync" and not fail:
        ctx.state.get(rid)["properties"]["provisioningState"] = "Succeeded"
        return {}
    op_id = uuid.uuid4().hex
    _creations(ctx)[op_id] = {"rid": rid, "remaining": ctx.sim.operations.polls, "startTime": shapes.now_iso(),
                              "fail": fail}
    path = f"/subscriptions/{ctx.params['sub']}/providers/{ML}/locations/{location}/{_ASYNC_KIND}/{op_id}"
    return {"Azure-AsyncOperation": f"{ctx.base_url}{path}?api-version={ctx.api_version}",
            "x-ms-async-operation-timeout": "PT1H", "Retry-After": str(ctx.sim.operations.retry_after)}


async def creation_status(ctx: Ctx) -> web.Response:
    """GET of an Azure-AsyncOperation URL: InProgress for `--polls` polls, then Succeeded (the resource too)."""
    op = _creations(ctx).get(ctx.params["op"])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{ctx.params['op']}' was not found.")
    body = {"id": ctx.request.path, "name": ctx.params["op"], "startTime": op["startTime"]}
    resource = ctx.state.get(op["rid"])
    if op.get("status") is None:
        if op["remaining"] > 0:
            op["remaining"] -= 1
            return web.json_response({**body, "status": "InProgress"},
                                     headers={"Retry-After": str(ctx.sim.operations.retry_after)})
        op["status"] = "Succeeded" if resource is not None and not op["fail"] else "Failed"
        if resource is not None:
            resource["properties"]["provisioningState"] = op["status"]
            ctx.emit("write", resource["id"], f"{ids.type_of(resource['id'])}/write")
    out = {**body, "status": op["status"], "endTime": shapes.now_iso()}
    if op["status"] == "Failed" and resource is None:
        out["error"] = {"code": "ResourceNotFound", "message": "The resource was deleted while it was being created."}
    elif op["status"] == "Failed":
        out["error"] = {"code": "InternalServerError", "message": "The resource could not be provisioned."}
    return web.json_response(out)


def _clean_payload(payload: dict) -> dict:
    props = copy.deepcopy(payload.get("properties") or {})
    for read_only in ("provisioningState", "createdOn", "modifiedOn", "provisioningErrors", "isAttachedCompute",
                      "scoringUri", "swaggerUri"):
        props.pop(read_only, None)
    return props


def _apply_common(body: dict, payload: dict) -> None:
    for name in ("tags", "identity", "sku", "kind"):
        if name in payload:
            body[name] = copy.deepcopy(payload[name])
    body.setdefault("systemData", shapes.system_data())["lastModifiedAt"] = shapes.now_iso()


# ------------------------------------------------------------------ computes
async def put_compute(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    name = ctx.params["name"]
    rid = f"{_ws_id(ctx)}/computes/{name}"
    ensure_unlocked(ctx, rid)
    payload = await ctx.json()
    props = _clean_payload(payload)
    ctype = props.get("computeType")
    if not isinstance(ctype, str) or not ctype:
        raise ArmError(400, "BadRequest", "properties.computeType is required.", target="properties.computeType")
    existing = ctx.state.get(rid)
    if existing is None and ctype.lower() == "computeinstance":
        retired = ((ws.get("_sim") or {}).get("retiredComputeInstances") or [])
        if any(r["name"].lower() == name.lower() and r["workspaceKey"] != ids.key(ws["id"]) for r in retired):
            raise ArmError(409, "Conflict", f"Etag conflict: a compute instance named '{name}' existed in this "
                           "workspace before it was moved; use a different name.")
    attached = ctype.lower() in ATTACHED_TYPES
    if attached and not props.get("resourceId"):
        raise ArmError(400, "BadRequest", f"properties.resourceId is required to attach a {ctype} compute.",
                       target="properties.resourceId")
    location = payload.get("location") or ws["location"]
    if existing is not None:
        body = copy.deepcopy(existing)
        inner = props.pop("properties", None)
        body["properties"].update(props)
        if isinstance(inner, dict):
            body["properties"].setdefault("properties", {}).update(copy.deepcopy(inner))
    else:
        inner = props.pop("properties", None) or {}
        body = shapes.compute(ws["id"], location, {"name": name, "computeType": ctype, "properties": inner,
                                                    "vmSize": inner.get("vmSize", "STANDARD_DS3_V2")})
        body["properties"].update(props)
        body["properties"]["isAttachedCompute"] = attached
    body["properties"]["provisioningState"] = "Creating"
    _apply_common(body, payload)
    ctx.state.put(body)
    headers = _start_creation(ctx, rid, ws["location"])
    return web.json_response(ctx.state.public(body), status=200 if existing else 201, headers=headers)


async def delete_compute(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    rid = f"{_ws_id(ctx)}/computes/{ctx.params['name']}"
    body = ctx.state.get(rid)
    if body is None:
        return web.Response(status=204)
    action = (ctx.q("underlyingResourceAction") or "Delete").lower()
    if action not in ("delete", "detach"):
        raise ArmError(400, "BadRequest", "underlyingResourceAction must be Delete or Detach.",
                       target="underlyingResourceAction")
    ensure_unlocked(ctx, rid)
    state, sim, info, ws_id = ctx.state, ctx.sim, ctx.info, ws["id"]
    body["properties"]["provisioningState"] = "Deleting"

    def complete() -> tuple[int, None]:
        current = state.get(rid)
        if current is not None:
            if current["properties"].get("computeType", "").lower() == "computeinstance":
                workspace = state.get(ws_id)
                if workspace is not None:
                    workspace.setdefault("_sim", {}).setdefault("retiredComputeInstances", []).append(
                        {"name": current["name"], "workspaceKey": ids.key(workspace["id"])})
            canonical = current["id"]
            state.delete_tree(rid)
            sim.emit("delete", canonical, f"{ML}/workspaces/computes/delete", info)
        return 200, None

    return _ml_lro(ctx, "computeOperationsStatus", ws["location"], complete)


# ------------------------------------------------------------------ online endpoints and deployments
def _check_traffic(ctx: Ctx, endpoint_id: str, traffic: object) -> dict:
    """Traffic names existing deployments with integer percentages summing to 0 or 100 (managed online endpoints:
    learn.microsoft.com/azure/machine-learning/how-to-safely-rollout-online-endpoints, traffic is allocated to
    deployments that exist and totals 100%)."""
    if traffic is None:
        return {}
    if not isinstance(traffic, dict) or not all(isinstance(v, int) and 0 <= v <= 100 for v in traffic.values()):
        raise ArmError(400, "BadRequest", "properties.traffic must map deployment names to percentages 0-100.",
                       target="properties.traffic")
    existing = {d["name"].lower() for d in ctx.state.children(endpoint_id, "deployments")}
    unknown = [name for name, value in traffic.items() if value and name.lower() not in existing]
    if unknown:
        raise ArmError(400, "BadRequest", f"Traffic cannot be allocated to deployments that do not exist: "
                       f"{', '.join(unknown)}.", target="properties.traffic")
    total = sum(traffic.values())
    if total not in (0, 100):
        raise ArmError(400, "BadRequest", f"The traffic of an endpoint must total 0 or 100, not {total}.",
                       target="properties.traffic")
    return copy.deepcopy(traffic)


async def put_endpoint(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    rid = f"{_ws_id(ctx)}/onlineEndpoints/{ctx.params['name']}"
    ensure_unlocked(ctx, rid)
    payload = await ctx.json()
    props = _clean_payload(payload)
    existing = ctx.state.get(rid)
    props["traffic"] = _check_traffic(ctx, rid, props.get("traffic"))
    if existing is not None:
        body = copy.deepcopy(existing)
    else:
        body = shapes.online_endpoint(ws["id"], payload.get("location") or ws["location"], {"name": ctx.params["name"]})
    return _write_mfe(ctx, rid, body, payload, props, existing is not None, ws["location"])


def _write_mfe(ctx: Ctx, rid: str, body: dict, payload: dict, props: dict, existed: bool,
               location: str) -> web.Response:
    """Store an endpoint or deployment PUT and start its creation: 201 when new, 200 when updated (mfe.json)."""
    body["properties"].update(props)
    body["properties"]["provisioningState"] = "Updating" if existed else "Creating"
    _apply_common(body, payload)
    ctx.state.put(body)
    headers = _start_creation(ctx, rid, location)
    return web.json_response(ctx.state.public(body), status=200 if existed else 201, headers=headers)


async def delete_endpoint(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    rid = f"{_ws_id(ctx)}/onlineEndpoints/{ctx.params['name']}"
    return _delete_mfe(ctx, ws, rid)


def _delete_mfe(ctx: Ctx, ws: dict, rid: str) -> web.Response:
    body = ctx.state.get(rid)
    if body is None:
        return web.Response(status=204)
    ensure_unlocked(ctx, rid)
    state, sim, info = ctx.state, ctx.sim, ctx.info
    body["properties"]["provisioningState"] = "Deleting"

    def complete() -> tuple[int, None]:
        current = state.get(rid)
        if current is not None:
            canonical = current["id"]
            state.delete_tree(rid)
            sim.emit("delete", canonical, f"{ids.type_of(rid)}/delete", info)
        return 200, None

    return _ml_lro(ctx, "mfeOperationsStatus", ws["location"], complete)


async def put_deployment(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    endpoint_id = f"{_ws_id(ctx)}/onlineEndpoints/{ctx.params['endpoint']}"
    endpoint = ctx.state.get(endpoint_id)
    if endpoint is None:
        raise not_found(endpoint_id)
    if endpoint["properties"].get("provisioningState") not in ("Succeeded", "Updating"):
        raise ArmError(409, "Conflict", f"The endpoint '{endpoint['name']}' is "
                       f"{endpoint['properties'].get('provisioningState')}; deployments can be added once it "
                       "has Succeeded.")
    rid = f"{endpoint_id}/deployments/{ctx.params['name']}"
    ensure_unlocked(ctx, rid)
    payload = await ctx.json()
    props = _clean_payload(payload)
    existing = ctx.state.get(rid)
    body = copy.deepcopy(existing) if existing is not None else shapes.online_deployment(
        endpoint_id, payload.get("location") or ws["location"], {"name": ctx.params["name"]})
    return _write_mfe(ctx, rid, body, payload, props, existing is not None, ws["location"])


async def delete_deployment(ctx: Ctx) -> web.Response:
    ws = require_workspace(ctx)
    endpoint_id = f"{_ws_id(ctx)}/onlineEndpoints/{ctx.params['endpoint']}"
    endpoint = ctx.state.get(endpoint_id)
    if endpoint is not None and (endpoint["properties"].get("traffic") or {}).get(ctx.params["name"]):
        raise ArmError(400, "BadRequest", f"Deployment '{ctx.params['name']}' still receives traffic; "
                       "set its traffic to 0 first.")
    return _delete_mfe(ctx, ws, f"{endpoint_id}/deployments/{ctx.params['name']}")


ROUTES = [
    route("GET", f"/subscriptions/{{sub}}/providers/{ML}/locations/{{loc}}/{_ASYNC_KIND}/{{op}}", creation_status),
    route("PUT", WS + "/computes/{name}", put_compute),
    route("DELETE", WS + "/computes/{name}", delete_compute),
    route("PUT", WS + "/onlineEndpoints/{name}", put_endpoint),
    route("DELETE", WS + "/onlineEndpoints/{name}", delete_endpoint),
    route("PUT", WS + "/onlineEndpoints/{endpoint}/deployments/{name}", put_deployment),
    route("DELETE", WS + "/onlineEndpoints/{endpoint}/deployments/{name}", delete_deployment),
]
