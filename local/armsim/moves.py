"""validateMoveResources / moveResources: request checks, per-resource validation reasons, and the move itself."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from . import ids, shapes
from .errors import HELD_NAME_MESSAGE, ArmError
from .state import State

# The move page's prerequisites for the destination subscription (Microsoft.Insights included in the current page).
WORKSPACE_PROVIDERS = ("Microsoft.MachineLearningServices", "Microsoft.Storage", "Microsoft.ContainerRegistry",
                       "Microsoft.KeyVault", "Microsoft.Insights")
ACTIVE_JOB_STATES = {"NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing",
                     "CancelRequested", "Unknown"}


@dataclass(frozen=True)
class MoveRequest:
    source_sub: str
    source_group: str
    target_sub: str
    target_group: str
    resources: tuple[str, ...]

    @property
    def source_rg_id(self) -> str:
        return ids.rg_id(self.source_sub, self.source_group)

    @property
    def target_rg_id(self) -> str:
        return ids.rg_id(self.target_sub, self.target_group)

    def new_id(self, resource_id: str) -> str:
        return ids.rebase(resource_id, self.source_rg_id, self.target_rg_id)


def parse(state: State, sub: str, group: str, body: dict) -> MoveRequest:
    """Synchronous checks of a move/validate request (400/404 answers)."""
    if state.subscription(sub) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    source = state.group(sub, group)
    if source is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
    resources, target = body.get("resources"), body.get("targetResourceGroup")
    if not isinstance(resources, list) or not resources or not all(isinstance(r, str) and r for r in resources):
        raise ArmError(400, "InvalidResourceMoveRequest", "The 'resources' property must be a non-empty list of resource ids.")
    if not isinstance(target, str) or not ids.is_resource_group_id(target):
        raise ArmError(400, "InvalidTargetResourceGroup",
                       f"The target resource group '{target}' is not a valid resource group id "
                       "(/subscriptions/{id}/resourceGroups/{name}).", target="targetResourceGroup")
    target_sub, target_group = ids.resource_group_of(target)
    if ids.key(target) == ids.key(source["id"]):
        raise ArmError(400, "InvalidTargetResourceGroup", "The source and target resource groups are the same.",
                       target="targetResourceGroup")
    target_subscription = state.subscription(target_sub)
    if target_subscription is None:
        raise ArmError(400, "InvalidTargetSubscription", f"The target subscription '{target_sub}' could not be found.",
                       target="targetResourceGroup")
    if target_subscription["tenantId"].lower() != state.tenant_of(sub).lower():
        raise cross_tenant_error(state, sub, group, target)
    outside = [r for r in resources if ids.rg_key_of(r) != ids.key(source["id"]) or state.get(r) is None]
    if outside:
        raise ArmError(400, "ResourceNotInSourceResourceGroup",
                       f"{len(outside)} resource(s) are not top-level resources of the source resource group '{group}'.",
                       details=[{"code": "ResourceNotFound", "target": r,
                                 "message": f"Resource '{r}' was not found in resource group '{group}'."} for r in outside])
    children = [r for r in resources if not ids.is_top_level(r)]
    if children:
        raise ArmError(400, "CannotMoveChildResource", "Only top-level resources can be moved; children move with their parent.",
                       details=[{"code": "CannotMoveChildResource", "target": r, "message": f"'{r}' is a child resource."}
                                for r in children])
    canonical = tuple(state.get(r)["id"] for r in dict.fromkeys(ids.key(r) for r in resources))
    return MoveRequest(source["subscriptionId"] if "subscriptionId" in source else ids.subscription_of(source["id"]),
                       source["name"], target_subscription["subscriptionId"], target_group, canonical)


def cross_tenant_error(state: State, sub: str, group: str, target: str) -> ArmError:
    """A move (or its validation) into a subscription of another Microsoft Entra tenant. The move page says only
    "Moving resources across Microsoft Entra tenants isn't supported"; no error is documented, so each plausible
    answer is a variant (`crossTenantMove`): "linkedAuthorization" (default), ARM's 403 for a linked scope the
    caller's tenant cannot reach (wording as in public reports, e.g. Azure/OpenShift#41: "however the current tenant
    '…' is not authorized to access linked subscription '…'"); "tokenTenant", the 401 every call on the foreign
    subscription answers (the source tenant's token, wrong issuer)."""
    target_sub = ids.resource_group_of(target)[0]
    if state.cross_tenant_move == "tokenTenant":
        foreign = state.subscription(target_sub)["tenantId"]
        return ArmError(401, "InvalidAuthenticationTokenTenant",
                        f"The access token is from the wrong issuer 'https://sts.windows.net/{state.tenant_of(sub)}/'. "
                        f"It must match the tenant 'https://sts.windows.net/{foreign}/' associated with this "
                        "subscription. Please use the authority (URL) "
                        f"'https://login.windows.net/{foreign}' to get the token.")
    return ArmError(403, "LinkedAuthorizationFailed",
                    "The client has permission to perform action 'Microsoft.Resources/subscriptions/resourceGroups/"
                    f"moveResources/action' on scope '{ids.rg_id(sub, group)}', however the current tenant "
                    f"'{state.tenant_of(sub)}' is not authorized to access linked subscription '{target_sub}'.")


def _detail(code: str, target: str, message: str) -> dict:
    return {"code": code, "target": target, "message": message}


def reasons(state: State, req: MoveRequest, own_operation: str | None = None) -> list[dict]:
    """Every reason the move would fail, one detail per resource and reason."""
    found: list[dict] = []
    target_group = state.group(req.target_sub, req.target_group)
    target_subscription = state.subscription(req.target_sub)
    for rid in req.resources:
        body = state.get(rid)
        if body is None:
            found.append(_detail("ResourceNotFound", rid, f"Resource '{rid}' no longer exists."))
            continue
        if target_group is None:
            found.append(_detail("ResourceGroupNotFound", rid,
                                 f"Target resource group '{req.target_group}' does not exist in subscription '{req.target_sub}'."))
        else:
            lock = state.locks.get(ids.key(target_group["id"]))
            if lock and lock != own_operation:
                found.append(_detail("ResourceGroupBeingMoved", rid,
                                     f"Target resource group '{req.target_group}' is locked by another move operation."))
        namespace = ids.namespace_of(rid) or ""
        needed = WORKSPACE_PROVIDERS if body["type"].lower() == shapes.WS_TYPE.lower() else (namespace,)
        missing = [ns for ns in needed
                   if (target_subscription["providers"].get(ns.lower()) or {}).get("registrationState", "Registered") != "Registered"]
        if missing:
            found.append(_detail("MissingSubscriptionRegistration", rid,
                                 f"The target subscription '{req.target_sub}' is not registered for resource provider(s) "
                                 f"{', '.join(missing)}."))
        new_id = req.new_id(rid)
        if state.get(new_id) is not None:
            found.append(_detail("ResourceExistsInTargetResourceGroup", rid, f"A resource '{new_id}' already exists."))
        if body["type"].lower() == shapes.WS_TYPE.lower():
            found.extend(_workspace_reasons(state, req, body, target_group))
    return found


def _workspace_reasons(state: State, req: MoveRequest, ws: dict, target_group: dict | None) -> list[dict]:
    rid, name = ws["id"], ws["name"]
    out = []
    if target_group is not None and target_group["location"].lower() != ws["location"].lower():
        out.append(_detail("WorkspaceMoveRegionMismatch", rid,
                           f"Workspace '{name}' is in '{ws['location']}' but the target resource group is in "
                           f"'{target_group['location']}'. Workspaces can only be moved within the same region."))
    computes = state.children(rid, "computes")
    if computes:
        out.append(_detail("WorkspaceHasComputeResources", rid,
                           f"Workspace '{name}' has compute resources ({', '.join(c['name'] for c in computes)}). "
                           "Delete all computes before moving the workspace."))
    endpoints = state.children(rid, "onlineEndpoints")
    if endpoints:
        out.append(_detail("WorkspaceHasOnlineEndpoints", rid,
                           f"Workspace '{name}' has online endpoints ({', '.join(e['name'] for e in endpoints)}). "
                           "Delete all online endpoints and deployments before moving the workspace."))
    batch = state.children(rid, "batchEndpoints")
    if batch:
        out.append(_detail("WorkspaceHasBatchEndpoints", rid,
                           f"Workspace '{name}' has batch endpoints ({', '.join(e['name'] for e in batch)}). "
                           "Delete all batch endpoints before moving the workspace."))
    active = [j for j in state.children(rid, "jobs") if j["properties"].get("status") in ACTIVE_JOB_STATES]
    if active:
        out.append(_detail("WorkspaceHasActiveJobs", rid,
                           f"Workspace '{name}' has {len(active)} queued or running job(s) "
                           f"({', '.join(j['name'] for j in active)}). Wait for them to finish or cancel them."))
    if (ws["properties"].get("encryption") or {}).get("status") == "Enabled":
        out.append(_detail("WorkspaceCmkEncryptionEnabled", rid,
                           f"Workspace '{name}' is encrypted with a customer-managed key; such workspaces cannot be moved."))
    linked = [d for d in state.of_type("Microsoft.Databricks/workspaces")
              if ids.key(((d["properties"].get("parameters") or {}).get("amlWorkspaceId") or {}).get("value") or "/x") == ids.key(rid)]
    if linked:
        out.append(_detail("WorkspaceLinkedToDatabricks", rid,
                           f"Workspace '{name}' is linked to Azure Databricks workspace(s) "
                           f"({', '.join(d['id'] for d in linked)}). Remove the link before moving."))
    if state.soft_deleted_named(req.target_sub, name) is not None:
        # What validateMoveResources says for a name a soft-deleted workspace holds in the target subscription is not
        # documented; the create's answer (routes_ml.held_name: code BadRequest) is the one Azure is known to give.
        out.append(_detail("BadRequest", rid, HELD_NAME_MESSAGE))
    return out


def validation_error(req: MoveRequest, details: list[dict]) -> ArmError:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return ArmError(409, "ResourceMoveProviderValidationFailed",
                    f"Resource move validation failed. Please see details. Diagnostic information: timestamp '{stamp}', "
                    f"subscription id '{req.source_sub}', source resource group '{req.source_group}', "
                    f"target resource group '{req.target_group}'.", details=details)


def execute(state: State, req: MoveRequest) -> dict[str, str]:
    """Move the resources with their children; returns old id -> new id for every moved id."""
    mapping: dict[str, str] = {}
    moved_workspaces = []
    for rid in req.resources:
        for body in [state.get(rid)] + state.descendants(rid):
            mapping[ids.key(body["id"])] = req.new_id(body["id"])
        if state.get(rid)["type"].lower() == shapes.WS_TYPE.lower():
            moved_workspaces.append(state.get(rid))
    # Role assignments on moved resources are not moved: they are deleted.
    for rid in req.resources:
        for k in [k for k, ra in state.role_assignments.items() if ids.is_within(ra["properties"]["scope"], rid)]:
            state.role_assignments.pop(k)
    # Private endpoint connections are dropped; the provider re-creates them later as Pending.
    pending = []
    for ws in moved_workspaces:
        for connection in state.children(ws["id"], "privateEndpointConnections"):
            state.resources.pop(ids.key(connection["id"]))
            option = (connection.get("_sim") or {}).get("afterMove") or {}
            pending.append((ws["id"], ws["location"], connection["name"], connection["properties"]["privateEndpoint"]["id"],
                            None if option.get("never") else float(option.get("recreateDelaySeconds", 0)), option))
        for foreign in ((ws.get("_sim") or {}).get("afterMove") or {}).get("foreignPendingConnections", []):
            pending.append((ws["id"], ws["location"], foreign["name"], foreign["privateEndpointId"],
                            float(foreign.get("delaySeconds", 0)), {}))
    for old_key in sorted(mapping, key=len):
        body = state.resources.pop(old_key, None)
        if body is None:
            continue
        body["id"] = mapping[old_key]
        state.put(body)
        if old_key in state.secrets:
            state.secrets[ids.key(body["id"])] = state.secrets.pop(old_key)
    by_old = {k: v for k, v in mapping.items()}
    for body in state.resources.values():
        if body.get("type", "").lower().endswith("/datastores"):
            if ids.key(body["id"]) in by_old.values() or body["id"].lower() in {v.lower() for v in by_old.values()}:
                _datastore_after_move(state, body)
            continue
        body["properties"] = _rewrite(body.get("properties"), by_old)
    now = time.monotonic()
    for old_ws_id, location, name, endpoint_id, delay, option in pending:
        new_ws = mapping[ids.key(old_ws_id)]
        connection = shapes.private_endpoint_connection(
            new_ws, {"name": name, "privateEndpointId": by_old.get(ids.key(endpoint_id), endpoint_id),
                     "status": "Pending", "description": "", "location": location})
        connection["_sim"] = {"afterMove": option}
        state.pending_connections.append({"workspaceId": new_ws, "body": connection,
                                          "due": None if delay is None else now + delay})
    state.tick()
    return mapping


def _datastore_after_move(state: State, body: dict) -> None:
    """The move page: after a move, a non-default datastore's subscription / resource group may be empty (then use
    "Update authentication") or may still name the source (then unregister and register it again). Which one a
    datastore shows: its scenario `afterMove.fields`, else the simulator-wide `datastoreFieldsAfterMove`
    ("empty", the common case the page describes, or "source")."""
    props = body.get("properties") or {}
    if props.get("isDefault") or not props.get("subscriptionId"):
        return
    shape = ((body.get("_sim") or {}).get("afterMove") or {}).get("fields") or state.datastore_fields_after_move
    if shape == "empty":
        props["subscriptionId"] = ""
        props["resourceGroup"] = ""


def _rewrite(value, mapping: dict[str, str]):
    if isinstance(value, str):
        return mapping.get(ids.key(value), value) if value.startswith("/") else value
    if isinstance(value, list):
        return [_rewrite(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, mapping) for k, v in value.items()}
    return value
