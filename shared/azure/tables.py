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

_clients: dict[tuple[int, str], tuple[TableServiceClient, TableClient]] = {}
_lock = threading.Lock()


def table(service: TableServiceClient, name: str) -> TableClient:
    """A client for one of the app's tables (created on first use in this process), reused: building one costs
    about as much as a request."""
    key = (id(service), name)
    known = _clients.get(key)
    if known is None or known[0] is not service:
        with _lock:
            known = _clients.get(key)
            if known is None or known[0] is not service:
                try:
                    service.create_table(name)
                except ResourceExistsError:
                    pass
                known = _clients[key] = (service, service.get_table_client(name))
    return known[1]
