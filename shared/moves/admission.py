"""The orchestration's first check: the input is re-checked against the settings and the move's own row."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.azure.clients import AzureClients
from shared.errors import ApiError, redact
from shared.moves.launch import RECREATE_FIELD
from shared.moves.plan import VALIDATING, MovePlan, instance_id_for, instance_id_of, is_move_id
from shared.moves.request import check_allowed
from shared.moves.store import MovesStore
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.moves")


@dataclass(frozen=True)
class Admission:
    """`admitted` false with a code and a secret-free reason when the orchestration must stop before any write."""

    admitted: bool
    code: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"admitted": self.admitted, "code": self.code, "reason": self.reason}


def admit(clients: AzureClients, settings: Settings, raw_plan: Any, instance_id: str) -> Admission:
    """Whether `raw_plan` (the orchestration input, untrusted) may run as orchestration `instance_id`.

    Holds only when the plan parses, its target is in AML_LIFECYCLE_ALLOWED_TARGETS (docs/settings.md), the instance id is
    the one its workspace derives to, the move id belongs to that instance, and the move's WorkspaceMoves row exists,
    is still `Validating` and records this very request (so a hand-started instance can neither run a move nobody
    started through `POST /api/moves` nor take over the row of another move). Reads only; raises only on a storage
    fault (the activity is retried).
    """
    try:
        plan = MovePlan.from_json(raw_plan)
    except (KeyError, TypeError, ValueError, AttributeError, ApiError) as exc:
        return _refused("InvalidPlan", f"the orchestration input is not a move plan ({type(exc).__name__})")
    try:
        check_allowed(plan.request, settings)
    except ApiError as exc:
        return _refused("TargetNotAllowed", exc.message)
    expected = instance_id_for(plan.request.workspace)
    if instance_id != expected:
        return _refused("InstanceMismatch", f"instance {instance_id!r} is not the move instance of the plan's workspace")
    if not is_move_id(plan.move_id) or instance_id_of(plan.move_id) != instance_id:
        return _refused("MoveIdMismatch", f"move id {plan.move_id!r} does not belong to instance {instance_id!r}")
    record = MovesStore.of(clients).get(plan.move_id, partition=plan.partition)
    if record is None:
        return _refused("MoveNotRecorded", f"no move {plan.move_id} was started through POST /api/moves")
    if record.state != VALIDATING or record.step("snapshot") is not None or record.step("cancellation") is not None:
        return _refused("MoveAlreadyRan", f"move {plan.move_id} is {record.state} and has run already")
    recorded = dict(record.request)
    recorded_resources = tuple(recorded.pop("resources", ()) or ())
    recorded_recreate = bool(recorded.pop(RECREATE_FIELD, False))
    if (
        recorded != plan.request.to_json()
        or recorded_resources != plan.resources
        or recorded_recreate != plan.recreate_role_assignments
    ):
        return _refused("PlanMismatch", f"the plan differs from the request recorded for move {plan.move_id}")
    return Admission(True)


def _refused(code: str, reason: str) -> Admission:
    reason = redact(reason)[:500]
    log.warning("move orchestration refused (%s): %s", code, reason)
    return Admission(False, code, reason)
