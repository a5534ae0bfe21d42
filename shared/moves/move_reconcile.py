"""A move step re-run after a crash between POST moveResources and recording its Location: converge by reading."""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError

from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import MlGateway
from shared.moves import operations as ops
from shared.moves.plan import MovePlan

# ARM's answer while another move holds a resource group (the earlier attempt's move, most likely).
GROUP_BEING_MOVED = "ResourceGroupBeingMoved"
RECHECK_SECONDS = 30


def held_by_earlier_attempt(status: ops.OperationStatus) -> ops.OperationStatus | None:
    """A `running` status without Location when ARM refused the POST because a move holds the groups; else None."""
    if status.status == ops.FAILED and (status.error or {}).get("code") == GROUP_BEING_MOVED:
        return ops.OperationStatus(ops.RUNNING, location=None, retry_after=RECHECK_SECONDS,
                                   detail="a move started by an earlier attempt of this step holds the groups")
    return None


def lock_wait(status: ops.OperationStatus, plan: MovePlan) -> ops.OperationStatus | None:
    """ARM refused (the POST, or the validation with only such reasons) because a move holds the source or target
    group (`ResourceGroupBeingMoved`; ARM locks both groups for the whole move, up to 4 hours): a `running` status
    without Location, flagged `lockWait`, to POST again after RECHECK_SECONDS. None for any other answer."""
    if status.status != ops.FAILED:
        return None
    error = status.error or {}
    codes = {r.get("code") for r in error.get("reasons") or []} or {error.get("code")}
    if error.get("code") != GROUP_BEING_MOVED and codes != {GROUP_BEING_MOVED}:
        return None
    return ops.OperationStatus(
        ops.RUNNING, location=None, retry_after=RECHECK_SECONDS, extra={"lockWait": True},
        detail=f"ARM's lock on {plan.source.name} / {plan.target.name}: another move holds them "
               f"({GROUP_BEING_MOVED}); this move starts when it ends")


def reconcile(clients: AzureClients, plan: MovePlan) -> ops.OperationStatus:
    """The workspace at the target → succeeded. Otherwise POST moveResources again: while the earlier move still
    holds the groups ARM refuses (keep waiting, no Location); if that move failed, this one starts (its Location
    is returned) or fails with ARM's reasons."""
    if _at_target(clients, plan):
        return ops.OperationStatus(ops.SUCCEEDED)
    status = ops.start_operation(clients.arm_pipeline(), ops.MOVE, plan.source, plan.target, list(plan.resources),
                                 arm_endpoint=clients.settings.arm_endpoint)
    if status.status == ops.FAILED and _at_target(clients, plan):
        # the earlier move ended between the read and the POST (ARM: ResourceNotInSourceResourceGroup): read again
        return ops.OperationStatus(ops.SUCCEEDED)
    return lock_wait(status, plan) or status


def _at_target(clients: AzureClients, plan: MovePlan) -> bool:
    try:
        MlGateway(clients.arm_pipeline()).get_workspace(plan.target_workspace)
        return True
    except ResourceNotFoundError:
        return False
