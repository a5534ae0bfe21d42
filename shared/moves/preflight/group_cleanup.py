"""Nothing left behind: a target resource group the preflight created is deleted again when validation fails."""

from __future__ import annotations

import logging

from azure.core.exceptions import AzureError

from shared.azure.arm_ids import ResourceGroupId
from shared.azure.clients import AzureClients
from shared.errors import describe_azure_error

log = logging.getLogger("aml_lifecycle.move_validation")
DELETE_WAIT_SECONDS = 20.0


def remove_created_group(clients: AzureClients, target: ResourceGroupId) -> tuple[bool, str]:
    """Delete the (still empty) group the preflight created; (deleted or deletion started, what was done).
    A group that holds anything now is left alone: someone else is using it."""
    groups = clients.resources(target.subscription_id)
    try:
        if next(iter(groups.resources.list_by_resource_group(target.name)), None) is not None:
            return False, f"{target.id} was created by this validation but is no longer empty; it was left in place"
        poller = groups.resource_groups.begin_delete(target.name, polling_interval=1)
        poller.result(timeout=DELETE_WAIT_SECONDS)
        done = "deleted again" if poller.done() else "being deleted (ARM is still deleting it)"
        log.info("target resource group %s created by a failed validation: %s", target.id, done)
        return True, f"{target.id} was created by this validation and is {done} because the validation failed"
    except AzureError as exc:
        return False, (f"{target.id} was created by this validation and could not be deleted again: "
                       f"{describe_azure_error(exc)}; delete it by hand (az group delete -n {target.name})")
