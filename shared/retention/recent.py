"""This process's memory of the workspaces it handled lately: a fresh delete of one it has not seen is written blind."""

from __future__ import annotations

import threading
from collections import OrderedDict

RECENT_KEYS = 10_000
_recent: OrderedDict[tuple[str, str], None] = OrderedDict()
_recent_lock = threading.Lock()


def recently_handled(key: tuple[str, str]) -> bool:
    """Whether this process handled the ledger row `key` (PartitionKey, RowKey) among its last RECENT_KEYS."""
    with _recent_lock:
        return key in _recent


def remember(key: tuple[str, str]) -> None:
    with _recent_lock:
        _recent[key] = None
        _recent.move_to_end(key)
        while len(_recent) > RECENT_KEYS:
            _recent.popitem(last=False)


def forget_recent() -> None:
    """Clear this process's memory of recently handled workspaces (benches measure the cold path with it)."""
    with _recent_lock:
        _recent.clear()
