"""Control API for behaviours where Azure is silent or slow: page sizes, bulk jobs, datastore edits, slow validation."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import ids, shapes
from .errors import ArmError
from .router import read_json_object

if TYPE_CHECKING:
    from .server import Simulator

IN_PLACE_CHOICES = ("accept", "refuse")
PURGE_MODES = ("purge", "held204", "notFound")


def register(app: web.Application, sim: "Simulator") -> None:
    async def settings(request: web.Request) -> web.Response:
        """`{"pageSizes"?: {kind: n}, "datastoreInPlaceChange"?: "accept"|"refuse",
        "datastoreFieldsAfterMove"?: "empty"|"source", "validationSeconds"?: n, "unpolledOperationSeconds"?: n,
        "heldNameAnswer"?: "sync"|"async", "crossTenantMove"?: "linkedAuthorization"|"tokenTenant"}`."""
        body = await read_json_object(request, required=False)
        state = sim.state
        sizes = body.get("pageSizes") or {}
        if not isinstance(sizes, dict) or not all(isinstance(v, int) and v > 0 for v in sizes.values()):
            raise ArmError(400, "InvalidSettings", "pageSizes must map kinds to positive integers.")
        state.page_sizes.update(sizes)
        if "datastoreInPlaceChange" in body:
            if body["datastoreInPlaceChange"] not in IN_PLACE_CHOICES:
                raise ArmError(400, "InvalidSettings", f"datastoreInPlaceChange must be one of {IN_PLACE_CHOICES}.")
            state.datastore_in_place_change = body["datastoreInPlaceChange"]
        if "datastoreFieldsAfterMove" in body:
            if body["datastoreFieldsAfterMove"] not in ("empty", "source"):
                raise ArmError(400, "InvalidSettings", "datastoreFieldsAfterMove must be 'empty' or 'source'.")
            state.datastore_fields_after_move = body["datastoreFieldsAfterMove"]
        if "unpolledOperationSeconds" in body:
            seconds = body["unpolledOperationSeconds"]
            if not isinstance(seconds, (int, float)) or seconds < 0:
                raise ArmError(400, "InvalidSettings", "unpolledOperationSeconds must be a number >= 0.")
            sim.operations.unpolled_seconds = float(seconds)
        for name, attribute, choices in (("heldNameAnswer", "held_name_answer", ("sync", "async")),
                                         ("crossTenantMove", "cross_tenant_move", ("linkedAuthorization", "tokenTenant"))):
            if name in body:
                if body[name] not in choices:
                    raise ArmError(400, "InvalidSettings", f"{name} must be one of {choices}.")
                setattr(state, attribute, body[name])
        if "purgeMode" in body:  # DELETE ?forceToPurge=true of a soft-deleted workspace (routes_ml.py)
            if body["purgeMode"] not in PURGE_MODES:
                raise ArmError(400, "InvalidSettings", f"purgeMode must be one of {PURGE_MODES}.")
            sim.purge_mode = body["purgeMode"]
        if "validationSeconds" in body:
            seconds = body["validationSeconds"]
            if not isinstance(seconds, (int, float)) or seconds < 0:
                raise ArmError(400, "InvalidSettings", "validationSeconds must be a number >= 0.")
            state.validation_seconds = float(seconds)
        return web.json_response({"pageSizes": state.page_sizes, "validationSeconds": state.validation_seconds,
                                  "datastoreInPlaceChange": state.datastore_in_place_change,
                                  "datastoreFieldsAfterMove": state.datastore_fields_after_move,
                                  "heldNameAnswer": state.held_name_answer, "crossTenantMove": state.cross_tenant_move,
                                  "purgeMode": sim.purge_mode})

    async def add_jobs(request: web.Request) -> web.Response:
        """`{"workspaceId", "count", "status"?: "Completed", "prefix"?: "job"}`: many jobs at once, appended."""
        body = await read_json_object(request)
        ws = sim.state.get(str(body.get("workspaceId") or ""))
        count = body.get("count")
        if ws is None or ws["type"].lower() != shapes.WS_TYPE.lower():
            raise ArmError(400, "InvalidWorkspace", "workspaceId must name a workspace of the simulator.")
        if not isinstance(count, int) or not 0 < count <= 100_000:
            raise ArmError(400, "InvalidCount", "count must be an integer from 1 to 100000.")
        prefix, status = str(body.get("prefix") or "job"), str(body.get("status") or "Completed")
        for n in range(count):
            sim.state.put(shapes.job(ws["id"], {"name": f"{prefix}-{n:06d}", "status": status}))
        return web.json_response({"added": count, "jobs": len(sim.state.children(ws["id"], "jobs"))}, status=201)

    app.router.add_post("/_sim/settings", settings)
    app.router.add_post("/_sim/jobs", add_jobs)


def check_datastore_change(state, existing: dict | None, props: dict) -> None:
    """Whether Azure accepts changing an existing datastore's subscriptionId / resourceGroup in place is not
    documented (the move page only says to unregister and register again): the simulator accepts or refuses it,
    per `datastoreInPlaceChange`. Filling empty fields (the studio's "Update authentication") is always accepted."""
    if existing is None or state.datastore_in_place_change == "accept":
        return
    before = existing.get("properties") or {}
    for field in ("subscriptionId", "resourceGroup"):
        old, new = before.get(field) or "", props.get(field) or ""
        if old and new and ids.key(old) != ids.key(new):
            raise ArmError(400, "UserError", f"The datastore's {field} cannot be changed from '{old}' to '{new}'. "
                           "Unregister the datastore and register it again.", target=field)
