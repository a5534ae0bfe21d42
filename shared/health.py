"""Reachability of Table Storage, ARM and the identity, for `GET /api/health`."""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any, Callable

from shared.azure.clients import AzureClients
from shared.errors import describe_azure_error

CHECK_TIMEOUT_SECONDS = 15.0


def _identity(clients: AzureClients) -> str:
    clients.credential.get_token(clients.scope)
    return "token acquired"


def _arm(clients: AzureClients) -> str:
    first = next(iter(clients.subscriptions().subscriptions.list()), None)
    return "subscriptions readable" if first is not None else "reachable, no subscription visible to the identity"


def _storage(clients: AzureClients) -> str:
    next(iter(clients.tables().list_tables(results_per_page=1)), None)
    return "tables reachable"


CHECKS: dict[str, Callable[[AzureClients], str]] = {"storage": _storage, "identity": _identity, "arm": _arm}


def check_health(clients: AzureClients, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Run every check concurrently, each bounded by `timeout`; healthy only when all pass."""
    results: dict[str, Any] = {}
    # Not a `with` block: its exit would wait for a hung check and defeat the timeout.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")
    try:
        started = time.monotonic()
        futures = {name: pool.submit(check, clients) for name, check in CHECKS.items()}
        for name, future in futures.items():
            remaining = max(0.0, timeout - (time.monotonic() - started))
            try:
                detail = future.result(timeout=remaining)
                results[name] = {"status": "ok", "detail": detail}
            except concurrent.futures.TimeoutError:
                results[name] = {"status": "failed", "detail": f"no answer within {timeout:.0f}s"}
            except Exception as exc:  # every failure is reported, none raised
                results[name] = {"status": "failed", "detail": describe_azure_error(exc)}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    healthy = all(item["status"] == "ok" for item in results.values())
    return {"status": "healthy" if healthy else "unhealthy", "checks": results}
