"""The guard each function takes around its imports of shared/, which load when a function first runs (cold start)."""

from __future__ import annotations

import threading
from typing import Any

from shared import telemetry


class DomainImports:
    """`with domain_imports:` around a function's imports: one thread at a time, and never while Azure Monitor is
    still being configured on its own thread (shared/telemetry.py), which imports too.

    The host indexes the app without the domain; each function imports what it needs when it runs. The worker runs
    sync functions on a thread pool, and two threads importing the same package cycle at once (a package __init__
    importing its modules) get "partially initialized module" ImportErrors. Re-entrant: a helper that takes it may
    run inside another block holding it. Async functions have waited for telemetry already (handlers.telemetry), so
    they never block the event loop on it here.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> None:
        telemetry.wait_until_ready()
        self._lock.acquire()

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()


domain_imports = DomainImports()
