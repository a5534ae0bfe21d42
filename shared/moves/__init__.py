"""Workspace moves: request parsing, the snapshot read, preflight rules (pure), validation, the durable plan, its
activities and steps, the report, and the WorkspaceMoves store."""

from shared.moves.plan import MovePlan
from shared.moves.preflight.validation import validate_move
from shared.moves.request import MoveRequest, check_allowed, parse_move_request
from shared.moves.store import MovesStore

__all__ = ["MovePlan", "MoveRequest", "MovesStore", "check_allowed", "parse_move_request", "validate_move"]
