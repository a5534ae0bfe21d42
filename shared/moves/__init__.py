"""Workspace moves: request parsing, the snapshot read, preflight rules (pure), validation, the durable plan, its
activities and steps, the report, and the WorkspaceMoves store."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.moves.plan import MovePlan
    from shared.moves.preflight.validation import validate_move
    from shared.moves.request import MoveRequest, check_allowed, parse_move_request
    from shared.moves.store import MovesStore

__all__ = ["MovePlan", "MoveRequest", "MovesStore", "check_allowed", "parse_move_request", "validate_move"]

_HOMES = {
    "MovePlan": "shared.moves.plan",
    "MoveRequest": "shared.moves.request",
    "MovesStore": "shared.moves.store",
    "check_allowed": "shared.moves.request",
    "parse_move_request": "shared.moves.request",
    "validate_move": "shared.moves.preflight.validation",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use: the host indexes the app importing only shared.moves.orchestrations (cold start).
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
