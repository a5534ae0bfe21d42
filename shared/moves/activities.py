"""The durable move's activities: each does one piece of ARM work and records it on the move's WorkspaceMoves row.

Every activity may run twice (a retry, a host restart): each one upserts its step by name and checks the row
before doing something that must not happen twice (starting the move).
"""

from __future__ import annotations

import logging
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared import logs
from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import MlGateway
from shared.moves import operations as ops
from shared.moves.cancel import is_cancelled
from shared.moves.datastore_fix import check_datastores
from shared.moves.inventory_reuse import fresh
from shared.moves.links import app_url
from shared.moves.move_reconcile import held_by_earlier_attempt, lock_wait, reconcile
from shared.moves.plan import FAILED, MOVING, POST_MOVE, SUCCEEDED, MovePlan
from shared.moves.premove_inventory import Inventory, take_inventory
from shared.moves.report import Outcome, conclude
from shared.moves.status_live import live_endpoints
from shared.moves.steps import approve_round, check_role_assignments
from shared.moves.store import MoveRecord, MovesStore, utcnow
from shared.moves.waiting import approval_wait, clear_waiting, operation_wait

log = logging.getLogger("aml_lifecycle.moves")

_STEP_OF_PHASE = {"validate": "validate", "move": "move"}


def _store(clients: AzureClients) -> MovesStore:
    return MovesStore.of(clients)


def _update(clients: AzureClients, plan: MovePlan, change: Any) -> MoveRecord:
    return _store(clients).update(plan.partition, plan.move_id, change)


def snapshot(clients: AzureClients, plan: MovePlan) -> dict[str, Any]:
    """What the move will disconnect or leave behind, kept on the row: the starter's preflight reads when they are
    minutes old (inventory_reuse.REUSE_WITHIN), else read again."""
    record = _store(clients).get(plan.move_id, partition=plan.partition)
    inventory = fresh(record.snapshot if record else None, utcnow())
    if inventory is not None:
        _update(clients, plan, lambda r: r.put_step("snapshot", "succeeded", reused="preflight",
                                                    privateEndpoints=len(inventory["privateEndpoints"]),
                                                    datastores=len(inventory["datastores"]),
                                                    roleAssignments=len(inventory["roleAssignments"])))
        return inventory
    inventory = take_inventory(clients, plan.request.workspace).to_json()

    def change(record: MoveRecord) -> None:
        record.snapshot = inventory
        record.put_step(
            "snapshot",
            "succeeded",
            privateEndpoints=len(inventory["privateEndpoints"]),
            datastores=len(inventory["datastores"]),
            roleAssignments=len(inventory["roleAssignments"]),
        )

    _update(clients, plan, change)
    return inventory


def start_validation(clients: AzureClients, plan: MovePlan, inventory: Inventory) -> dict[str, Any]:
    """Create the target group if asked and missing, then POST validateMoveResources (not waited for)."""
    _refuse_if_cancelled(_store(clients).get(plan.move_id, partition=plan.partition))
    created = _ensure_target_group(clients, plan, inventory.location)
    status = ops.start_operation(
        clients.arm_pipeline(),
        ops.VALIDATE,
        plan.source,
        plan.target,
        list(plan.resources),
        arm_endpoint=clients.settings.arm_endpoint,
    )
    status = lock_wait(status, plan) or status

    def change(record: MoveRecord) -> None:
        if created:
            record.put_step(
                "target-resource-group", "succeeded", detail=f"created {plan.target.id} in {inventory.location}"
            )
        _record_operation(record, "validate", status, poll=0, plan=plan)

    _update(clients, plan, change)
    return status.to_json()


def start_move(clients: AzureClients, plan: MovePlan) -> dict[str, Any]:
    """POST moveResources once: a repeated call returns the operation the first call started."""
    store = _store(clients)
    record = store.get(plan.move_id, partition=plan.partition)
    if record is not None and record.operation:
        return ops.OperationStatus(ops.RUNNING, location=record.operation).to_json()
    earlier_attempt = record is not None and (record.step("move") or {}).get("status") == "starting"
    store.update(plan.partition, plan.move_id, lambda r: _set_moving(r))
    status = ops.start_operation(
        clients.arm_pipeline(),
        ops.MOVE,
        plan.source,
        plan.target,
        list(plan.resources),
        arm_endpoint=clients.settings.arm_endpoint,
    )
    if earlier_attempt:  # a crash after the POST, before its Location was recorded: converge by reading
        status = held_by_earlier_attempt(status) or status
    status = lock_wait(status, plan) or status  # another move holds the groups: wait for ARM's lock

    def change(record: MoveRecord) -> None:
        if status.location:
            record.operation = status.location
        _record_operation(record, "move", status, poll=0, plan=plan)

    store.update(plan.partition, plan.move_id, change)
    return status.to_json()


class MoveCancelled(RuntimeError):
    """The move was cancelled (POST /api/moves/{moveId}/cancel): no further ARM write."""


def _refuse_if_cancelled(record: MoveRecord | None) -> None:
    if is_cancelled(record):
        raise MoveCancelled(f"move {record.move_id} was cancelled; nothing further is written to ARM")


def _set_moving(record: MoveRecord) -> None:
    _refuse_if_cancelled(record)  # inside the ETag-guarded update: a cancel and the move's start cannot both win
    record.state = MOVING
    record.put_step("move", "starting")


def poll(clients: AzureClients, plan: MovePlan, phase: str, location: str, poll_number: int,
         wait: dict[str, str] | None = None) -> dict[str, Any]:
    """One GET of the operation's Location; the step keeps the poll count and, at the end, ARM's verdict. While it
    waits the step shows `waitingFor`, `nextCheckAt` (the orchestrator's rule, `next_poll_delay`, applied to this
    answer) and `deadline` (`wait["deadline"]`, ISO 8601 Z, the orchestrator's own when it gives one)."""
    if not location and phase == "move":  # throttled POST, or the earlier attempt's move: see move_reconcile
        _refuse_if_cancelled(_store(clients).get(plan.move_id, partition=plan.partition))  # reconcile may POST
        status = reconcile(clients, plan)
    elif not location:  # the validation's POST was throttled: POST it again after the durable timer
        status = ops.start_operation(clients.arm_pipeline(), ops.VALIDATE, plan.source, plan.target,
                                     list(plan.resources), arm_endpoint=clients.settings.arm_endpoint)
    else:
        status = ops.poll_operation(clients.arm_pipeline(), location, arm_endpoint=clients.settings.arm_endpoint)
    status = lock_wait(status, plan) or status  # a validation refused only for another move's lock: POST again

    def change(record: MoveRecord) -> None:
        if phase == "move" and status.location and not record.operation:  # the move's Location, once known
            record.operation = status.location
        _record_operation(record, phase, status, poll=poll_number, plan=plan, wait=wait)

    _update(clients, plan, change)
    return status.to_json()


def _record_operation(record: MoveRecord, phase: str, status: ops.OperationStatus, *, poll: int,
                      plan: MovePlan, wait: dict[str, str] | None = None) -> None:
    name = _STEP_OF_PHASE[phase]
    step = record.step(name) or {}
    polls = max(int(step.get("polls") or 0), poll)
    if status.waiting:
        fields = operation_wait(record, plan, name, status)
        if status.extra.get("lockWait"):  # another move holds the groups: say so (move_reconcile.lock_wait)
            fields["waitingFor"] = status.detail
        if (wait or {}).get("deadline"):  # the orchestrator's own deadline (a lock wait has a longer one)
            fields["deadline"] = wait["deadline"]
        record.put_step(name, "waiting" if status.extra.get("lockWait") else "running", polls=polls,
                        lastPoll=status.status if poll else None, detail=status.detail, **fields)
        return
    clear_waiting(record.step(name))
    if status.status == ops.SUCCEEDED:
        record.put_step(name, "succeeded", polls=polls)
        if phase == "move":
            record.state = POST_MOVE
    else:
        record.put_step(name, "failed", polls=polls, error=status.error)


def approve_endpoints(clients: AzureClients, plan: MovePlan, inventory: Inventory, round_number: int,
                      wait: dict[str, Any] | None = None) -> dict[str, Any]:
    """One approval round; `wait` ({"deadline": ISO, "intervalSeconds": int}, from the orchestrator) says what a
    running step shows: waitingFor, nextCheckAt, deadline."""
    found = approve_round(MlGateway(clients.arm_pipeline()), plan, inventory)

    def change(record: MoveRecord) -> None:
        step = record.step("private-endpoints") or {}
        approved = sum(1 for e in found.endpoints if e["status"] == "Approved")
        record.put_step(
            "private-endpoints",
            "succeeded" if found.done else "running",
            rounds=max(int(step.get("rounds") or 0), round_number),
            approved=approved,
            notApproved=len(found.endpoints) - approved,
            foreign=len(found.foreign),
        )
        if found.done or not wait:
            clear_waiting(record.step("private-endpoints"))
        else:
            record.put_step("private-endpoints", "running", **approval_wait(
                len(found.endpoints) - approved, wait.get("intervalSeconds"), wait.get("deadline")))
        record.result = live_endpoints(record.result, found)  # GET /api/moves/{moveId} shows them during the wait

    _update(clients, plan, change)
    return found.to_json()


def datastores(clients: AzureClients, plan: MovePlan, inventory: Inventory) -> list[dict[str, Any]]:
    results = check_datastores(MlGateway(clients.arm_pipeline()), plan, inventory)
    counts = {status: sum(1 for r in results if r["status"] == status) for status in {r["status"] for r in results}}
    _update(clients, plan, lambda record: record.put_step("datastores", "succeeded", counts=counts))
    return results


def role_assignments(clients: AzureClients, plan: MovePlan, inventory: Inventory) -> list[dict[str, Any]]:
    results = check_role_assignments(clients, plan, inventory)
    counts = {status: sum(1 for r in results if r["status"] == status) for status in {r["status"] for r in results}}
    _update(clients, plan, lambda record: record.put_step("role-assignments", "succeeded", counts=counts))
    return results


def finish(clients: AzureClients, plan: MovePlan, outcome: Outcome) -> dict[str, Any]:
    """Write the verdict on the row and publish the alert (its event id is stable, so a re-run sends a duplicate
    consumers can drop)."""
    from shared.azure import alerts

    store = _store(clients)
    record = store.get(plan.move_id, partition=plan.partition)
    created = record is not None and (record.step("target-resource-group") or {}).get("status") == "succeeded"
    if created and not outcome.moved:  # nothing left behind: the group this move created goes again
        from shared.moves.preflight.group_cleanup import remove_created_group

        deleted, note = remove_created_group(clients, plan.target)
        store.update(plan.partition, plan.move_id,
                     lambda row: row.put_step("target-resource-group", "deleted" if deleted else "left", detail=note))
    conclusion = conclude(plan, outcome, record.snapshot if record else None)
    error = None if outcome.error is None else {**outcome.error, "phase": outcome.phase}

    def change(row: MoveRecord) -> None:
        if not is_cancelled(row):  # a cancel already wrote the verdict and who asked for it
            row.state = conclusion.state
            row.error = error
        row.result = conclusion.result
        row.finished_at = row.finished_at or utcnow()
        for step in row.steps:
            if step["status"] in ("running", "starting", "waiting"):  # a wait that ended at its deadline
                clear_waiting(row.put_step(step["name"], "incomplete"))
        row.put_step("report", "succeeded", state=conclusion.state, leftToDo=len(conclusion.left_to_do))

    record = store.update(plan.partition, plan.move_id, change)
    event_type = {SUCCEEDED: alerts.MOVE_SUCCEEDED, FAILED: alerts.MOVE_FAILED}.get(
        conclusion.state, alerts.MOVE_NEEDS_ATTENTION
    )
    data = {
        "moveId": plan.move_id,
        "state": conclusion.state,
        "workspaceId": plan.request.workspace.id,
        "targetWorkspaceId": conclusion.result.get("targetWorkspaceId"),
        "statusUrl": app_url(f"/api/moves/{plan.move_id}"),
        "leftToDo": list(conclusion.left_to_do),
        "error": error,
    }
    if record.alert_id is None:
        try:
            event_id = alerts.publish_alert(
                clients, event_type, plan.request.workspace.id, data, event_id=alerts.alert_id("move", plan.move_id)
            )
            store.update(plan.partition, plan.move_id, lambda row: _alerted(row, event_id, event_type))
        except alerts.AlertPublishError as exc:
            reason = exc.reason  # secret-free; the move's verdict stands, the row says the alert did not go out
            store.update(plan.partition, plan.move_id, lambda row: row.put_step("alert", "failed", detail=reason))
    log.info("move %s of %s finished: %s (%d item(s) left to do)", plan.move_id, plan.request.workspace.id,
             conclusion.state, len(conclusion.left_to_do),
             extra=logs.fields(kind="move.finished", move_id=plan.move_id, workspace_id=plan.request.workspace.id,
                               state=conclusion.state, alert_id=alerts.alert_id("move", plan.move_id)))
    return {"moveId": plan.move_id, "state": conclusion.state, "leftToDo": len(conclusion.left_to_do), "error": error}


def _alerted(row: MoveRecord, event_id: str, event_type: str) -> None:
    row.alert_id = event_id
    row.put_step("alert", "succeeded", detail=event_type)


def _ensure_target_group(clients: AzureClients, plan: MovePlan, location: str) -> bool:
    if not plan.request.create_target_resource_group:
        return False
    groups = clients.resources(plan.target.subscription_id).resource_groups
    try:
        groups.get(plan.target.name)
        return False
    except ResourceNotFoundError:
        groups.create_or_update(plan.target.name, {"location": location})
        return True
