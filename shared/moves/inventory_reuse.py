"""The move's pre-move inventory taken from the starter's fresh preflight snapshot instead of being read again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.moves.premove_inventory import ChildInfo, ConnectionInfo, DatastoreInfo, Inventory, RoleAssignmentInfo
from shared.moves.snapshot import MoveSnapshot
from shared.moves.store import iso

# How old the starter's reads may be when the orchestration's snapshot step reuses them (same move, minutes old).
REUSE_WITHIN = timedelta(minutes=5)
TAKEN_AT = "takenAt"


def inventory_of(snapshot: MoveSnapshot, now: datetime) -> dict[str, Any] | None:
    """Inventory JSON (with `takenAt`) when every read it needs succeeded; None otherwise (the step reads again)."""
    reads = (snapshot.workspace, snapshot.private_endpoints, snapshot.datastores, snapshot.role_assignments,
             snapshot.computes, snapshot.online_endpoints, snapshot.batch_endpoints)
    if not all(read.ok for read in reads) or snapshot.workspace.value is None:
        return None
    ws = snapshot.workspace.value
    inventory = Inventory(
        ws.id,
        ws.location,
        tuple(ConnectionInfo(c.name, c.id, c.private_endpoint_id, c.status) for c in snapshot.private_endpoints.value),
        tuple(DatastoreInfo.of(d) for d in snapshot.datastores.value if not d.is_default),
        tuple(sorted((RoleAssignmentInfo(r.id, r.name, r.scope, r.principal_id, r.principal_type, r.role_definition_id)
                      for r in snapshot.role_assignments.value), key=lambda r: r.id.lower())),
        tuple(ChildInfo(c.id, c.name, c.kind) for c in snapshot.computes.value),
        tuple(ChildInfo(e.id, e.name, e.kind) for e in
              (*(o.endpoint for o in snapshot.online_endpoints.value), *snapshot.batch_endpoints.value)),
    )
    return {**inventory.to_json(), TAKEN_AT: iso(now)}


def fresh(stored: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The stored inventory when it was taken within REUSE_WITHIN of now, else None."""
    taken = (stored or {}).get(TAKEN_AT)
    if not taken:
        return None
    moment = datetime.fromisoformat(str(taken).replace("Z", "+00:00"))
    return stored if timedelta(0) <= now - moment <= REUSE_WITHIN else None
