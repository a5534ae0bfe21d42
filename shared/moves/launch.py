"""Starting a move: parse the body, run the preflight, write the move's first WorkspaceMoves row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError

from shared.azure.clients import AzureClients
from shared.errors import ApiError, bad_request
from shared.moves.plan import DEFAULT_TIMING, FAILED, VALIDATING, MovePlan, MoveTiming, instance_id_for, new_move_id
from shared.moves.request import MoveRequest, parse_move_request
from shared.moves.store import MoveRecord, MovesStore, utcnow
from shared.settings import Settings

RECREATE_FIELD = "recreateRoleAssignments"
RUNNING_STATUSES = frozenset({"Running", "Pending", "Suspended", "ContinuedAsNew"})


class PreflightFailed(ApiError):
    """422 carrying the preflight report."""

    def __init__(self, report: dict[str, Any]) -> None:
        failed = [c["id"] for c in report.get("checks", []) if c.get("status") == "failed"]
        armed = (report.get("armValidation") or {}).get("status")
        why = ", ".join(failed) if failed else f"ARM validation {armed}"
        super().__init__(422, "PreflightFailed", f"the move cannot start: {why}; see the report", "workspaceId")
        self.report = report

    def body(self) -> dict[str, Any]:
        return {**self.report, **super().body()}


def parse_start(body: dict[str, Any]) -> tuple[MoveRequest, bool]:
    """The move request plus this route's own option, `recreateRoleAssignments` (default false)."""
    if not isinstance(body, dict):
        raise bad_request("body", "must be a JSON object")
    rest = dict(body)
    recreate = rest.pop(RECREATE_FIELD, False)
    if recreate is None:
        recreate = False
    if not isinstance(recreate, bool):
        raise bad_request(RECREATE_FIELD, f"must be true or false, got {recreate!r}")
    return parse_move_request(rest, for_move=True), recreate


def is_running(status: Any) -> bool:
    """Whether a DurableOrchestrationStatus describes a live instance."""
    runtime = getattr(status, "runtime_status", None)
    name = getattr(runtime, "value", runtime)
    return bool(status) and name in RUNNING_STATUSES


def running_move_id(status: Any) -> str | None:
    """The move id in a running instance's input (the starter puts it there)."""
    value = getattr(status, "input_", None)
    if value is None:
        value = getattr(status, "input", None)
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value.get("moveId") if isinstance(value, dict) else None


def prepare(
    clients: AzureClients,
    settings: Settings,
    request: MoveRequest,
    recreate: bool,
    *,
    now: datetime | None = None,
    timing: MoveTiming | None = None,
    requested_by: dict[str, Any] | None = None,
) -> MovePlan:
    """Preflight (422 with the report when not ready), then the row in state Validating (recording `requested_by`,
    the signed-in caller); returns the plan."""
    from shared.moves.preflight.validation import validate_move

    now = now or utcnow()
    # Never waits on ARM's validation: the orchestration's first step is that validation (docs/moves.md).
    report = validate_move(clients, settings, request, now=now, arm=False)
    report_json = report.to_json()
    if not report.ready:
        raise PreflightFailed(report_json)
    resources = tuple(str(getattr(r, "id", r)) for r in report.resources)
    plan = new_plan(request, resources, recreate=recreate, now=now, timing=timing)
    warnings = [c["id"] for c in report_json.get("checks", []) if c.get("status") == "warning"]
    record_start(clients, plan, now=now, warnings=warnings, inventory=report.inventory, requested_by=requested_by)
    return plan


def prepare_claimed(
    clients: AzureClients, settings: Settings, request: MoveRequest, recreate: bool, *, now: datetime | None = None,
    requested_by: dict[str, Any] | None = None,
) -> MovePlan:
    """Take the workspace's start claim, then `prepare`; a losing start raises claims.ClaimTaken before any preflight
    read, and a start that fails (422, an error) gives the claim back."""
    from shared.moves import claims

    now = now or utcnow()
    move_id = new_move_id(instance_id_for(request.workspace), now)
    claim = claims.acquire(clients, request.workspace.subscription_id.lower(), instance_id_for(request.workspace),
                           move_id, now=now)
    try:
        return prepare(clients, settings, request, recreate, now=now, requested_by=requested_by)
    except BaseException:
        claims.release(clients, claim)
        raise


def discard_start(clients: AzureClients, plan: MovePlan) -> None:
    """Remove the row of a start that was answered 409 after all (the orchestration existed): no Failed row for it."""
    from azure.core import MatchConditions

    from shared.azure import tables

    tables.table(clients.tables(), tables.MOVES).delete_entity(plan.partition, plan.move_id,
                                                               match_condition=MatchConditions.Unconditionally)


def new_plan(
    request: MoveRequest,
    resources: tuple[str, ...] = (),
    *,
    recreate: bool = False,
    now: datetime | None = None,
    timing: MoveTiming | None = None,
) -> MovePlan:
    """The orchestration input for a checked request; the move id carries the start time."""
    move_id = new_move_id(instance_id_for(request.workspace), now or utcnow())
    return MovePlan(move_id, request, resources or (request.workspace.id,), recreate, timing or DEFAULT_TIMING)


def record_start(
    clients: AzureClients,
    plan: MovePlan,
    *,
    now: datetime | None = None,
    warnings: list[str] | None = None,
    inventory: dict[str, Any] | None = None,
    requested_by: dict[str, Any] | None = None,
) -> MoveRecord:
    """The move's first row (state Validating, the preflight step done, the preflight's inventory kept for the
    orchestration's snapshot step); 409 if that move id exists."""
    now = now or utcnow()
    request = plan.request
    record = MoveRecord(
        move_id=plan.move_id,
        instance_id=instance_id_for(request.workspace),
        partition=plan.partition,
        workspace_id=request.workspace.id,
        target_resource_group_id=request.target.id,
        state=VALIDATING,
        request={
            **request.to_json(),
            RECREATE_FIELD: plan.recreate_role_assignments,
            "resources": list(plan.resources),
        },
        started_at=now,
        updated_at=now,
        snapshot=inventory,
        requested_by=requested_by,
    )
    record.put_step("preflight", "succeeded", at=now, warnings=warnings or [])
    try:
        MovesStore.of(clients).create(record)
    except ResourceExistsError:
        raise ApiError(
            409, "MoveAlreadyStarted", f"move {plan.move_id} was started a moment ago", "workspaceId"
        ) from None
    return record


def mark_not_started(clients: AzureClients, plan: MovePlan, reason: str) -> None:
    def change(record: MoveRecord) -> None:
        record.state = FAILED
        record.error = {"code": "NotStarted", "message": reason, "reasons": [], "phase": "start"}
        record.finished_at = utcnow()
        record.put_step("orchestration", "failed", detail=reason)

    MovesStore.of(clients).update(plan.partition, plan.move_id, change)
