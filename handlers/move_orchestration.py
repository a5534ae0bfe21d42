"""The durable move as the host indexes it: orchestrator, activities, their names (bodies: move_flow.py, shared/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generator

import azure.durable_functions as df

from handlers import move_workload
from handlers.cold_start import domain_imports
from handlers.telemetry import activity
from shared.moves.orchestrations import ORCHESTRATOR

if TYPE_CHECKING:
    from types import ModuleType

    from shared.azure.clients import AzureClients
    from shared.moves.plan import MovePlan
    from shared.moves.premove_inventory import Inventory

bp = df.Blueprint()

ADMIT = "move_admit"
SNAPSHOT = "move_snapshot"
START_VALIDATION = "move_start_validation"
START_MOVE = "move_start"
POLL = "move_poll"
LOCATE = "move_locate"
APPROVE = "move_approve_private_endpoints"
DATASTORES = "move_check_datastores"
ROLE_ASSIGNMENTS = "move_check_role_assignments"
FINISH = "move_finish"
ACTIVITIES = (
    ADMIT, SNAPSHOT, START_VALIDATION, START_MOVE, POLL, LOCATE, APPROVE, DATASTORES, ROLE_ASSIGNMENTS, FINISH,
    *move_workload.ACTIVITIES,
)


@bp.function_name(ORCHESTRATOR)
@bp.orchestration_trigger(context_name="context")
def move_orchestrator(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict]:
    with domain_imports:
        from handlers import move_flow
    return (yield from move_flow.run(context))


# activities ------------------------------------------------------------------------------------------------------
def _work() -> tuple[AzureClients, ModuleType]:
    """The app's clients and `shared.moves.activities`, which most activities below call."""
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves import activities
    return get_clients(), activities


def _plan(payload: dict) -> MovePlan:
    with domain_imports:
        from shared.moves.plan import MovePlan
    return MovePlan.from_json(payload["plan"])


def _inventory(payload: dict) -> Inventory:
    with domain_imports:
        from shared.moves.premove_inventory import Inventory
    return Inventory.from_json(payload["inventory"])


@activity(bp)
def move_admit(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.admission import admit
        from shared.settings import get_settings
    return admit(get_clients(), get_settings(), payload.get("plan"), str(payload.get("instanceId") or "")).to_json()


@activity(bp)
def move_snapshot(payload: dict) -> dict:
    clients, work = _work()
    return work.snapshot(clients, _plan(payload))


@activity(bp)
def move_start_validation(payload: dict) -> dict:
    clients, work = _work()
    return work.start_validation(clients, _plan(payload), _inventory(payload))


@activity(bp)
def move_start(payload: dict) -> dict:
    clients, work = _work()
    return work.start_move(clients, _plan(payload))


@activity(bp)
def move_poll(payload: dict) -> dict:
    clients, work = _work()
    return work.poll(clients, _plan(payload), payload["phase"], payload["location"], int(payload["poll"]),
                     wait={"deadline": payload["deadline"]} if payload.get("deadline") else None)


@activity(bp)
def move_locate(payload: dict) -> dict:
    with domain_imports:
        from shared.azure.clients import get_clients
        from shared.moves.whereabouts import locate
    return locate(get_clients(), _plan(payload))


@activity(bp)
def move_approve_private_endpoints(payload: dict) -> dict:
    clients, work = _work()
    return work.approve_endpoints(clients, _plan(payload), _inventory(payload), int(payload["round"]),
                                  payload.get("wait"))


@activity(bp)
def move_check_datastores(payload: dict) -> list:
    clients, work = _work()
    return work.datastores(clients, _plan(payload), _inventory(payload))


@activity(bp)
def move_check_role_assignments(payload: dict) -> list:
    clients, work = _work()
    return work.role_assignments(clients, _plan(payload), _inventory(payload))


@activity(bp)
def move_finish(payload: dict) -> dict:
    clients, work = _work()
    with domain_imports:
        from shared.moves.report import Outcome
        from shared.retention.moved import follow_move
    plan, outcome = _plan(payload), Outcome.from_json(payload["outcome"])
    if outcome.moved:  # the inventory follows the workspace (retention's side; moves does not import it)
        follow_move(clients, plan.request.workspace.id, plan.target_workspace.id)
    return work.finish(clients, plan, outcome)
