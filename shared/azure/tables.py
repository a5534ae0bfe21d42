"""Table names and access to the app's Table Storage tables."""

from __future__ import annotations

import threading

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient

RETENTION = "WorkspaceRetention"
MOVES = "WorkspaceMoves"
INVENTORY = "WorkspaceInventory"
SCHEDULE = "RetentionSchedule"
RECONCILE = "RetentionReconcile"
ALL_TABLES = (RETENTION, MOVES, INVENTORY, SCHEDULE, RECONCILE)

_created: set[tuple[int, str]] = set()
_lock = threading.Lock()


def table(service: TableServiceClient, name: str) -> TableClient:
    """A client for one of the app's tables, created on first use in this process."""
    key = (id(service), name)
    if key not in _created:
        with _lock:
            if key not in _created:
                try:
                    service.create_table(name)
                except ResourceExistsError:
                    pass
                _created.add(key)
    return service.get_table_client(name)
