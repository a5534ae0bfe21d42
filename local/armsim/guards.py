"""Preconditions shared by the route modules: existing subscription/group, move locks."""
from __future__ import annotations

from . import ids
from .errors import ArmError, rg_not_found
from .router import Ctx


def require_group(ctx: Ctx) -> dict:
    sub, group = ctx.params["sub"], ctx.params["rg"]
    if ctx.state.subscription(sub) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    body = ctx.state.group(sub, group)
    if body is None:
        raise rg_not_found(group)
    return body


def lock_error(resource_id: str) -> ArmError:
    found = ids.resource_group_of(resource_id)
    group = found[1] if found else resource_id
    return ArmError(409, "ResourceGroupBeingMoved",
                    f"The resource group '{group}' is locked because resources are being moved in or out of it. "
                    "Write and delete operations are blocked until the move operation completes.",
                    target=ids.rg_id(*found) if found else None)


def ensure_unlocked(ctx: Ctx, resource_id: str) -> None:
    """Writes and deletes inside a resource group that a move holds answer 409."""
    if ctx.state.lock_of(resource_id):
        raise lock_error(resource_id)
