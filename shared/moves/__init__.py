"""Workspace moves: request parsing, the snapshot read, preflight rules (pure), validation, the durable plan, its
activities and steps, the report, and the WorkspaceMoves store."""

from shared.moves.plan import MovePlan
from shared.moves.request import MoveRequest, check_allowed, parse_move_request
from shared.moves.store import MovesStore
from shared.moves.validation import validate_move

__all__ = ["MovePlan", "MoveRequest", "MovesStore", "check_allowed", "parse_move_request", "validate_move"]
