"""What GET /api/moves/{moveId} shows while the move waits for private endpoint approvals (each round's look)."""

from __future__ import annotations

from typing import Any

from shared.moves.store import iso, utcnow


def live_endpoints(result: dict[str, Any] | None, found: Any) -> dict[str, Any]:
    """The row's result with this round's connections (pending, approved, missing) and foreign pending ones; the
    final report replaces it."""
    return {
        **(result or {}),
        "privateEndpoints": list(found.endpoints),
        "foreignConnections": list(found.foreign),
        "privateEndpointsCheckedAt": iso(utcnow()),
    }
