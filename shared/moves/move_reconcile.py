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


def reconcile(clients: AzureClients, plan: MovePlan) -> ops.OperationStatus:
    """The workspace at the target → succeeded. Otherwise POST moveResources again: while the earlier move still
    holds the groups ARM refuses (keep waiting, no Location); if that move failed, this one starts (its Location
    is returned) or fails with ARM's reasons."""
    try:
        MlGateway(clients.arm_pipeline()).get_workspace(plan.target_workspace)
        return ops.OperationStatus(ops.SUCCEEDED)
    except ResourceNotFoundError:
        pass
    status = ops.start_operation(clients.arm_pipeline(), ops.MOVE, plan.source, plan.target, list(plan.resources),
                                 arm_endpoint=clients.settings.arm_endpoint)
    return held_by_earlier_attempt(status) or status
