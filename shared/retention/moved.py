"""After a move succeeded: the inventory row follows the workspace to its new id (docs/tables.md)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from shared.azure import tables
from shared.azure.arm_ids import parse_workspace_id
from shared.azure.ml_gateway import MlGateway
from shared.errors import describe_azure_error
from shared.retention.inventory import Inventory

log = logging.getLogger("aml_lifecycle.inventory")


def follow_move(clients: Any, old_workspace_id: str, new_workspace_id: str) -> bool:
    """Read the moved workspace at `new_workspace_id` and move its inventory row there (the old row gets `MovedTo`),
    so a later delete of the moved workspace gets a full recovery report. Returns False (logged) when the ARM read
    fails: the next write event or backfill records it anyway. Storage failures raise (the activity is retried)."""
    try:
        moved = MlGateway(clients.arm_pipeline()).get_workspace(parse_workspace_id(new_workspace_id))
    except Exception as exc:  # any ARM failure: the move's verdict stands
        log.warning("inventory: reading moved workspace %s failed: %s", new_workspace_id, describe_azure_error(exc))
        return False
    inventory = Inventory(tables.table(clients.tables(), tables.INVENTORY))
    inventory.follow_move(old_workspace_id, moved, now=datetime.now(timezone.utc))
    return True
