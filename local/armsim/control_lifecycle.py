"""Control API for what Azure ML documents only as portal actions: recover and purge of a soft-deleted workspace,
and the purge of a deleted Key Vault / storage account / Log Analytics workspace.

Azure documents no REST operation for either workspace action (concept-soft-delete: "Recently deleted" in the
portal / studio) and no event for them. Each action therefore takes `emit`: `write` (a ResourceWriteSuccess for
workspaces/write), `delete` (a ResourceDeleteSuccess), `action` (a ResourceActionSuccess), or `none` (default),
so the tests can cover every plausible variant. The operation names of the `action` variant are the simulator's.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from . import ids, routes_deleted, routes_ml_kinds
from .errors import ArmError
from .events import RequestInfo, claims_for
from .router import read_json_object

if TYPE_CHECKING:
    from .server import Simulator

ML = "Microsoft.MachineLearningServices/workspaces"
EMITS = ("write", "delete", "action", "none")
METHODS = {"write": "PUT", "delete": "DELETE", "action": "POST"}


def _emit(sim: "Simulator", kind: str, ws_id: str, action: str, *, purge: bool = False) -> None:
    if kind == "none":
        return
    operation = {"write": f"{ML}/write", "delete": f"{ML}/delete", "action": f"{ML}/{action}/action"}[kind]
    sub = ids.subscription_of(ws_id) or ""
    tenant = sim.state.tenant_of(sub) or ""
    query = "?api-version=2025-09-01" + ("&forceToPurge=true" if purge and kind == "delete" else "")
    info = RequestInfo(method=METHODS[kind], url=f"{sim.base_url}{ws_id}{query}", client_request_id=str(uuid.uuid4()),
                       client_ip="127.0.0.1", correlation_id=str(uuid.uuid4()),
                       claims=claims_for(sim.state.principals, None, tenant))
    sim.emit(kind, ws_id, operation, info)


def _log(sim: "Simulator", ws_id: str, action: str, *, purge: bool) -> None:
    """The Activity Log records every management operation (Azure Monitor: activity log), a portal action too; the
    request Azure makes for it is not documented: a purge is logged as the spec's delete with forceToPurge=true, a
    recover as a workspaces/write."""
    sub = ids.subscription_of(ws_id) or ""
    tenant = sim.state.tenant_of(sub) or ""
    method = "DELETE" if purge else "PUT"
    query = "?api-version=2025-09-01" + ("&forceToPurge=true" if purge else "")
    info = RequestInfo(method=method, url=f"{sim.base_url}{ws_id}{query}", client_request_id=str(uuid.uuid4()),
                       client_ip="127.0.0.1", correlation_id=str(uuid.uuid4()),
                       claims=claims_for(sim.state.principals, None, tenant))
    sim.log_operation(ws_id, f"{ML}/{'delete' if purge else 'write'}", info).finish(200)


async def _body(request: web.Request) -> tuple[str, str]:
    body = await read_json_object(request)
    ws_id, emit = body.get("id"), body.get("emit", "none")
    if not isinstance(ws_id, str) or not ws_id.startswith("/subscriptions/"):
        raise ArmError(400, "InvalidId", "id must be the soft-deleted workspace's ARM id.")
    if emit not in EMITS:
        raise ArmError(400, "InvalidEmit", f"emit must be one of {', '.join(EMITS)}.")
    return ws_id, emit


def register(app: web.Application, sim: "Simulator") -> None:
    async def recover(request: web.Request) -> web.Response:
        ws_id, emit = await _body(request)
        entry = sim.state.soft_deleted.get(ids.key(ws_id))
        if entry is None:
            raise ArmError(404, "ResourceNotFound", f"No soft-deleted workspace '{ws_id}'.")
        props = entry["workspace"]["properties"]
        # concept-soft-delete: restore the dependent resources first; recovery fails while they are missing.
        missing = [props[d] for d in ("storageAccount", "keyVault", "applicationInsights")
                   if props.get(d) and sim.state.get(props[d]) is None]
        if missing:
            raise ArmError(400, "WorkspaceDependenciesNotFound",
                           "The workspace cannot be recovered until its dependent resources exist again.",
                           details=[{"code": "ResourceNotFound", "target": m, "message": f"'{m}' was not found."}
                                    for m in missing])
        routes_ml_kinds.before_recover(sim.state, entry["workspace"])  # a project without its hub: a variant
        body = sim.state.recover(ws_id)
        _log(sim, body["id"], "recover", purge=False)
        _emit(sim, emit, body["id"], "recover")
        projects = routes_ml_kinds.after_recover(sim.state, body)  # a hub's projects: a variant
        return web.json_response({"recovered": body["id"], "emitted": emit, **({"projects": projects} if projects
                                                                                  else {})})

    async def purge(request: web.Request) -> web.Response:
        ws_id, emit = await _body(request)
        entry = sim.state.purge(ws_id)
        if entry is None:
            raise ArmError(404, "ResourceNotFound", f"No soft-deleted workspace '{ws_id}'.")
        _log(sim, entry["workspace"]["id"], "purge", purge=True)
        _emit(sim, emit, entry["workspace"]["id"], "purge", purge=True)
        return web.json_response({"purged": entry["workspace"]["id"], "emitted": emit})

    async def purge_deleted(request: web.Request) -> web.Response:
        body = await read_json_object(request)
        if not isinstance(body.get("id"), str):
            raise ArmError(400, "InvalidId", "id must be the deleted resource's original ARM id.")
        entry = routes_deleted.purge(sim.state, body["id"])
        return web.json_response({"purged": entry["resource"]["id"]})

    async def activity_log(request: web.Request) -> web.Response:
        return web.json_response(sim.activity_log.entries)

    async def shift_activity_log(request: web.Request) -> web.Response:
        """`{"seconds": -259200}`: every Activity Log entry so far happened that much earlier (or later)."""
        body = await read_json_object(request)
        if not isinstance(body.get("seconds"), (int, float)):
            raise ArmError(400, "InvalidSeconds", "seconds must be a number.")
        return web.json_response({"shifted": sim.activity_log.shift(float(body["seconds"]))})

    app.router.add_get("/_sim/activity-log", activity_log)
    app.router.add_post("/_sim/activity-log/shift", shift_activity_log)
    app.router.add_post("/_sim/workspaces/recover", recover)
    app.router.add_post("/_sim/workspaces/purge", purge)
    app.router.add_post("/_sim/deleted/purge", purge_deleted)
