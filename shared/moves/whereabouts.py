"""Where the workspace is, read from ARM (source id, target id): the move's verdict, never a poll's guess."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.azure.clients import AzureClients
from shared.azure.ml_gateway import MlGateway
from shared.errors import describe_azure_error
from shared.moves.plan import MovePlan
from shared.moves.store import MoveRecord, MovesStore, utcnow

AT_TARGET, AT_SOURCE, UNKNOWN = "target", "source", "unknown"
STEP = "whereabouts"


def _read(gateway: MlGateway, resource: Any) -> str:
    """`present`, `absent` (404) or `error: …` (any other answer: not a verdict)."""
    try:
        gateway.get_workspace(resource)
        return "present"
    except ResourceNotFoundError:
        return "absent"
    except HttpResponseError as exc:
        return f"error: {describe_azure_error(exc)}"[:300]
    except Exception as exc:  # a network fault: no verdict either
        return f"error: {type(exc).__name__}"


def locate(clients: AzureClients, plan: MovePlan) -> dict[str, Any]:
    """GET the workspace at its source id and at its target id (Workspaces - Get, 2025-09-01).

    Returns `{"where": "target" | "source" | "unknown", "source": …, "target": …, "checkedAt": ISO 8601}`:
    `target` when the target id answers 200 and the source id 404 (ARM moved it), `source` for the opposite, and
    `unknown` for anything else (both, neither, an error). Recorded on the row as step `whereabouts`.
    """
    gateway = MlGateway(clients.arm_pipeline())
    source, target = _read(gateway, plan.request.workspace), _read(gateway, plan.target_workspace)
    where = {("absent", "present"): AT_TARGET, ("present", "absent"): AT_SOURCE}.get((source, target), UNKNOWN)
    found = {"where": where, "source": source, "target": target, "checkedAt": utcnow().isoformat()}
    found["checkedAt"] = found["checkedAt"].replace("+00:00", "Z")

    def change(record: MoveRecord) -> None:
        step = record.step(STEP) or {}
        record.put_step(STEP, "succeeded", where=where, sourceAnswer=source, targetAnswer=target,
                        reads=int(step.get("reads") or 0) + 1)

    MovesStore.of(clients).update(plan.partition, plan.move_id, change)
    return found


def describe(found: dict[str, Any], plan: MovePlan) -> str:
    """One sentence a person can act on."""
    return (f"ARM answered {found.get('source')} for the source id {plan.request.workspace.id} and "
            f"{found.get('target')} for the target id {plan.target_workspace.id}")
