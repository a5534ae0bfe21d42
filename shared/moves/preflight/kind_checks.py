"""Checks for what the move page does not cover: the workspace's kind (hub, project, feature store), a hub's
projects and a project's hub, a managed virtual network, and serverless endpoints (which it does cover)."""

from __future__ import annotations

from typing import Any

from shared.azure.arm_ids import ArmIdError, ResourceId, parse_workspace_id
from shared.azure.workspace_kind import DEFAULT, FEATURE_STORE, HUB, PROJECT, WorkspaceKind
from shared.moves.preflight.rules import FAILED, MOVE_DOC, PASSED, WARNING, CheckResult, result, skipped
from shared.moves.snapshot import MoveSnapshot

KIND, HUB_PROJECTS = "workspace.kind", "workspace.hub-projects"
MANAGED_NETWORK, NO_SERVERLESS = "workspace.managed-network", "workspace.no-serverless-endpoints"
SILENT = (f"not documented as supported: the move page ({MOVE_DOC}) covers Azure Machine Learning workspaces and "
          "says nothing of {what}")
OPT_IN = ("if you accept a move Azure does not document, validate again with \"allowUndocumented\": [\"{cid}\"] "
          "(the move's report keeps that choice); otherwise {otherwise}")
KIND_WORDS = {HUB: "hubs (kind Hub) or their projects", PROJECT: "hub-based projects (kind Project)",
              FEATURE_STORE: "feature stores (kind FeatureStore)"}


def _silent(cid: str, s: MoveSnapshot, message: str, otherwise: str, items: Any = ()) -> CheckResult:
    """Failed "not documented as supported", or a warning carrying the opt-in when the request made it."""
    if cid in s.request.allow_undocumented:
        return result(cid, WARNING, f"{message}; accepted by the request (allowUndocumented: {cid})", items,
                      remediation=f"the move goes ahead although Azure does not document it: {otherwise}")
    return result(cid, FAILED, message, items, remediation=OPT_IN.format(cid=cid, otherwise=otherwise))


def _kind(s: MoveSnapshot) -> WorkspaceKind:
    return WorkspaceKind.of(s.workspace.value.raw if s.workspace.value is not None else None)


def workspace_kind(s: MoveSnapshot) -> CheckResult:
    if skip := skipped(KIND, s.workspace):
        return skip
    linked = _kind(s)
    if linked.kind == DEFAULT and not linked.hub_resource_id:
        return result(KIND, PASSED, "the workspace is of kind Default, the kind the move page documents")
    what = KIND_WORDS.get(linked.kind, f"workspaces of kind {linked.kind}")
    return _silent(KIND, s, f"the workspace is of kind {linked.kind}: " + SILENT.format(what=what),
                   "move the workspace's contents another way, or keep it where it is",
                   [{"kind": linked.kind, "hubResourceId": linked.hub_resource_id}])


def workspace_hub_projects(s: MoveSnapshot) -> CheckResult:
    """A hub moving without its projects, or a project moving away from its hub's subscription, is never silent."""
    if skip := skipped(HUB_PROJECTS, s.workspace):
        return skip
    linked, request = _kind(s), s.request
    moving = {rid.id.lower() for rid in (request.workspace, *request.include_resources)}
    if linked.is_project and linked.hub_resource_id:
        hub = linked.hub_resource_id
        try:
            hub_sub = ResourceId.parse(hub).subscription_id
        except ArmIdError:
            hub_sub = None
        item = [{"hubResourceId": hub, "hubSubscriptionId": hub_sub, "targetSubscriptionId":
                 request.target.subscription_id, "hubMoves": hub.rstrip("/").lower() in moving}]
        if hub.rstrip("/").lower() in moving:
            return result(HUB_PROJECTS, PASSED, f"the project moves together with its hub {hub}", item)
        if hub_sub is not None and hub_sub.lower() == request.target.subscription_id.lower():
            return _silent(HUB_PROJECTS, s, f"the project moves to another resource group of its hub's subscription, "
                           f"its hub {hub} stays: " + SILENT.format(what="a project's link to its hub"),
                           "keep the project with its hub", item)
        return _silent(HUB_PROJECTS, s, f"the project would leave its hub's subscription ({hub_sub}) for "
                       f"{request.target.subscription_id}: " + SILENT.format(what="a project away from its hub"),
                       "keep the project in its hub's subscription", item)
    if linked.is_hub:
        projects = [{"id": p, "moves": p.rstrip("/").lower() in moving} for p in linked.associated_workspaces]
        staying = [p["id"] for p in projects if not p["moves"]]
        if not staying:
            return result(HUB_PROJECTS, PASSED, f"the hub's {len(projects)} project(s) move with it", projects)
        return _silent(HUB_PROJECTS, s, f"{len(staying)} project(s) of this hub would stay behind "
                       f"({', '.join(_name(p) for p in staying[:10])}): " + SILENT.format(what="a hub's projects"),
                       "move each project in its own move (POST /api/moves; moves of one resource group queue for "
                       "ARM's lock), or delete them first", projects)
    return result(HUB_PROJECTS, PASSED, "the workspace is neither a hub nor a hub's project")


def workspace_managed_network(s: MoveSnapshot) -> CheckResult:
    if skip := skipped(MANAGED_NETWORK, s.workspace):
        return skip
    linked = _kind(s)
    if not linked.managed_network:
        mode = linked.isolation_mode or "none"
        return result(MANAGED_NETWORK, PASSED, f"the workspace has no managed virtual network (isolation mode {mode})")
    rules = s.outbound_rules.value or []
    items = [{"name": r.get("name"), "type": (r.get("properties") or {}).get("type"),
              "category": (r.get("properties") or {}).get("category"),
              "status": (r.get("properties") or {}).get("status")} for r in rules if isinstance(r, dict)]
    listed = f"; {len(items)} outbound rule(s)" if s.outbound_rules.ok else \
        f"; its outbound rules could not be listed ({s.outbound_rules.error})"
    return _silent(MANAGED_NETWORK, s, f"the workspace has a managed virtual network (isolation mode "
                   f"{linked.isolation_mode}){listed}: " + SILENT.format(what="managed virtual networks"),
                   "recreate the managed network's outbound rules and private endpoints in the target if needed",
                   items)


def workspace_no_serverless_endpoints(s: MoveSnapshot) -> CheckResult:
    """The move page: "Before the move, you must delete or detach computes and inference endpoints" (and its table:
    Endpoints are not moved). A serverless endpoint is an inference endpoint: documented, so no opt-in."""
    found = s.serverless_endpoints.value or []
    if not found:
        return skipped(NO_SERVERLESS, s.serverless_endpoints) or result(
            NO_SERVERLESS, PASSED, "the workspace has no serverless endpoints")
    names = ", ".join(e.name for e in found[:10]) + (" …" if len(found) > 10 else "")
    partial = "" if s.serverless_endpoints.ok else f" (at least; the list broke off: {s.serverless_endpoints.error})"
    return result(NO_SERVERLESS, FAILED, f"the workspace has {len(found)} serverless endpoint(s){partial}: {names}",
                  [{"name": e.name, "id": e.id, "provisioningState": e.state} for e in found],
                  remediation="delete the serverless endpoints (inference endpoints must be deleted before a move) "
                  f"and create them again after it. See {MOVE_DOC}")


def _name(workspace_id: str) -> str:
    try:
        return parse_workspace_id(workspace_id).name
    except ArmIdError:
        return workspace_id


def evaluate(s: MoveSnapshot) -> list[CheckResult]:
    """The kind checks, in their order in the report."""
    return [workspace_kind(s), workspace_hub_projects(s), workspace_managed_network(s),
            workspace_no_serverless_endpoints(s)]
