"""After the move: re-approve private endpoints, account for role assignments (datastores: datastore_fix.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError

from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import MlGateway
from shared.errors import describe_azure_error
from shared.moves.plan import MovePlan
from shared.moves.premove_inventory import ConnectionInfo, Inventory, list_role_assignments

APPROVED, PENDING, MISSING = "Approved", "Pending", "Missing"
# Connection states nobody should wait for: they will not turn Approved by themselves.
_SETTLED = frozenset({"approved", "rejected", "disconnected"})


@dataclass(frozen=True)
class ApprovalRound:
    """One look at the moved workspace's connections (and approvals made in it)."""

    endpoints: tuple[dict[str, Any], ...]  # one per connection of the snapshot
    foreign: tuple[dict[str, Any], ...]  # pending connections whose private endpoint was not in the snapshot
    done: bool  # nothing left worth waiting for

    def to_json(self) -> dict[str, Any]:
        return {"endpoints": list(self.endpoints), "foreign": list(self.foreign), "done": self.done}


def approve_round(ml: MlGateway, plan: MovePlan, inventory: Inventory) -> ApprovalRound:
    """Approve the Pending connections whose private endpoint was Approved before the move; report the others."""
    approve = plan.request.approve_private_endpoints == "pre-existing"
    expected: dict[str, ConnectionInfo] = {}
    for info in inventory.private_endpoints:
        if info.private_endpoint_id:
            expected[plan.moved_id(info.private_endpoint_id).lower()] = info
    connections = ml.list_private_endpoint_connections(plan.target_workspace)
    by_endpoint = {(c.private_endpoint_id or "").lower(): c for c in connections if c.private_endpoint_id}

    endpoints: list[dict[str, Any]] = []
    waiting = False
    for key, before in expected.items():
        entry: dict[str, Any] = {
            "name": before.name,
            "privateEndpointId": plan.moved_id(before.private_endpoint_id or ""),
            "statusBeforeMove": before.status,
        }
        current = by_endpoint.get(key)
        if before.status.lower() != "approved":
            # It was not approved before the move either: not ours to approve.
            entry.update(
                status=current.status if current else MISSING,
                connectionId=current.id if current else None,
                note="was not approved before the move; left alone",
            )
        elif current is None:
            entry.update(status=MISSING, connectionId=None)
            waiting = True
        elif current.status.lower() == "pending" and approve:
            try:
                approved = ml.approve_private_endpoint_connection(
                    current.id, f"Re-approved after workspace move {plan.move_id}"
                )
                entry.update(status=approved.status, connectionId=current.id, approvedByMove=True)
            except HttpResponseError as exc:
                entry.update(
                    status=current.status, connectionId=current.id, note=f"approval failed: {describe_azure_error(exc)}"
                )
            waiting = waiting or entry["status"].lower() not in _SETTLED
        else:
            entry.update(status=current.status, connectionId=current.id)
            waiting = waiting or (approve and current.status.lower() not in _SETTLED)
        endpoints.append(entry)

    foreign = tuple(
        {"name": c.name, "connectionId": c.id, "privateEndpointId": c.private_endpoint_id, "status": c.status}
        for c in connections
        if c.status.lower() == "pending" and (c.private_endpoint_id or "").lower() not in expected
    )
    return ApprovalRound(tuple(endpoints), foreign, done=not approve or not waiting)


def check_role_assignments(clients: AzureClients, plan: MovePlan, inventory: Inventory) -> list[dict[str, Any]]:
    """Role assignments on the workspace before the move: still there, re-created (if asked to) or to re-create."""
    if not inventory.role_assignments:
        return []
    present = {
        (r.principal_id.lower(), _guid(r.role_definition_id), r.scope.lower())
        for r in list_role_assignments(clients, plan.target_workspace)
    }
    results = []
    for before in inventory.role_assignments:
        scope = plan.moved_id(before.scope)
        role = _rebase_role(before.role_definition_id, plan)
        entry: dict[str, Any] = {
            "principalId": before.principal_id,
            "principalType": before.principal_type,
            "roleDefinitionId": role,
            "scope": scope,
            "previousId": before.id,
        }
        if (before.principal_id.lower(), _guid(role), scope.lower()) in present:
            results.append({**entry, "status": "present"})
        elif plan.recreate_role_assignments:
            results.append(
                {
                    **entry,
                    **_recreate(clients, plan, before.id, scope, role, before.principal_id, before.principal_type),
                }
            )
        else:
            results.append(
                {
                    **entry,
                    "status": "not-moved",
                    "message": "role assignments do not move with a workspace; re-create it",
                }
            )
    return results


def _recreate(
    clients: AzureClients,
    plan: MovePlan,
    previous_id: str,
    scope: str,
    role: str,
    principal: str,
    principal_type: str | None,
) -> dict[str, Any]:
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    # A name derived from the move and the old assignment: a retried activity re-PUTs the same assignment.
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{plan.move_id}|{previous_id.lower()}"))
    parameters = RoleAssignmentCreateParameters(
        role_definition_id=role, principal_id=principal, principal_type=principal_type
    )
    try:
        created = clients.authorization(plan.target.subscription_id).role_assignments.create(
            scope.lstrip("/"), name, parameters
        )
    except ResourceExistsError:
        return {"status": "present", "message": "an equal assignment already exists"}
    except HttpResponseError as exc:
        return {"status": "recreate-failed", "message": f"re-creating it failed: {describe_azure_error(exc)}"}
    return {"status": "recreated", "id": getattr(created, "id", None)}


def _guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _rebase_role(role_definition_id: str, plan: MovePlan) -> str:
    """Subscription-scoped role definition ids name the source subscription; the same role in the target's."""
    parts = role_definition_id.split("/")
    if (
        len(parts) > 2
        and parts[1].lower() == "subscriptions"
        and parts[2].lower() == plan.source.subscription_id.lower()
    ):
        parts[2] = plan.target.subscription_id
    return "/".join(parts)
