"""The durable move's input (request, resources, timings), its ids and its states."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from shared.azure.arm_ids import ResourceGroupId, ResourceId, parse
from shared.moves.orchestrations import ORCHESTRATOR  # noqa: F401  (re-exported from its old home)
from shared.moves.request import MoveRequest

VALIDATING, MOVING, POST_MOVE = "Validating", "Moving", "PostMove"
SUCCEEDED, FAILED, NEEDS_ATTENTION = "Succeeded", "Failed", "NeedsAttention"
STATES = (VALIDATING, MOVING, POST_MOVE, SUCCEEDED, FAILED, NEEDS_ATTENTION)
TERMINAL_STATES = frozenset({SUCCEEDED, FAILED, NEEDS_ATTENTION})

# The orchestration instance id is stable per workspace (one running move per workspace); the move id adds the
# start time so every move keeps its own WorkspaceMoves row.
_INSTANCE_PREFIX = "move-"
MOVE_ID = re.compile(r"^move-[0-9a-f]{16}-[0-9]{8}T[0-9]{9}Z$")


def instance_id_for(workspace: ResourceId) -> str:
    """`move-` + 16 hex of SHA-256 over the lower-cased workspace id (ids hold `/`, instance ids should not)."""
    return _INSTANCE_PREFIX + hashlib.sha256(workspace.id.lower().encode()).hexdigest()[:16]


def new_move_id(instance_id: str, now: datetime) -> str:
    """`<instance id>-<UTC start time to the millisecond>`, e.g. `move-3f9c…-20300101T080000123Z`."""
    moment = now.astimezone(timezone.utc)
    return f"{instance_id}-{moment:%Y%m%dT%H%M%S}{moment.microsecond // 1000:03d}Z"


def instance_id_of(move_id: str) -> str:
    return move_id[: len(_INSTANCE_PREFIX) + 16]


def is_move_id(text: str) -> bool:
    return bool(MOVE_ID.match(text or ""))


@dataclass(frozen=True)
class MoveTiming:
    """Intervals and deadlines in seconds (retry interval in ms); tests shrink them through the input."""

    poll_fallback_seconds: int = 30  # when ARM sends no Retry-After
    min_poll_seconds: int = 5
    max_poll_seconds: int = 300
    operation_deadline_seconds: int = 4 * 3600  # ARM's own limit for a move
    lock_wait_deadline_seconds: int = 24 * 3600  # waiting for other moves' lock on the groups (docs/moves.md)
    approval_interval_seconds: int = 60
    approval_deadline_seconds: int = 3600
    transient_poll_limit: int = 10  # consecutive 5xx / network failures of a poll before giving up
    identical_failure_limit: int = 3  # the same 5xx answer this many times in a row: the operation failed
    retry_first_ms: int = 5000  # activity retries (call_activity_with_retry)
    retry_attempts: int = 4

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> "MoveTiming":
        known = {f.name for f in fields(cls)}
        values = {k: int(v) for k, v in (body or {}).items() if k in known}
        timing = cls(**values)
        if timing.retry_first_ms <= 0 or timing.retry_attempts < 1:
            raise ValueError("retry_first_ms must be > 0 and retry_attempts >= 1")
        return timing


DEFAULT_TIMING = MoveTiming()


@dataclass(frozen=True)
class MovePlan:
    """Everything the orchestration needs to know, JSON-safe (it travels as the orchestration input)."""

    move_id: str
    request: MoveRequest
    resources: tuple[str, ...]  # ids handed to ARM, the workspace first
    recreate_role_assignments: bool = False
    timing: MoveTiming = field(default_factory=MoveTiming)

    @property
    def partition(self) -> str:
        """WorkspaceMoves PartitionKey: the source subscription id."""
        return self.request.workspace.subscription_id.lower()

    @property
    def source(self) -> ResourceGroupId:
        return self.request.workspace.resource_group_id

    @property
    def target(self) -> ResourceGroupId:
        return self.request.target

    @property
    def target_workspace(self) -> ResourceId:
        return self.request.workspace.moved_to(self.request.target)

    def moves(self, resource_id: str) -> bool:
        """Whether the id is one of the moved resources or below one of them."""
        key = resource_id.lower().rstrip("/")
        return any(key == r.lower() or key.startswith(r.lower() + "/") for r in self.resources)

    def moved_id(self, resource_id: str) -> str:
        """Where a resource of the source group lives after the move (unchanged if it did not move)."""
        if not self.moves(resource_id):
            return resource_id
        parsed = parse(resource_id)
        if not isinstance(parsed, ResourceId):
            return resource_id
        return parsed.moved_to(self.target).id

    def to_json(self) -> dict[str, Any]:
        return {
            "moveId": self.move_id,
            "request": self.request.to_json(),
            "resources": list(self.resources),
            "recreateRoleAssignments": self.recreate_role_assignments,
            "timing": self.timing.to_json(),
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "MovePlan":
        return cls(
            move_id=body["moveId"],
            request=MoveRequest.from_json(body["request"]),
            resources=tuple(body["resources"]),
            recreate_role_assignments=bool(body.get("recreateRoleAssignments", False)),
            timing=MoveTiming.from_json(body.get("timing")),
        )
