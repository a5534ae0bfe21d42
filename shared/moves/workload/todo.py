"""The quiesce option's part of a move's verdict: the items a person must still re-create, each with its definition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.moves.plan import MovePlan
from shared.moves.workload.passes import renamed, view
from shared.moves.workload.quiesce import resource_id
from shared.moves.workload.restore import KEPT, RESTORED

_KIND = {"compute": "recreate-compute", "endpoint": "recreate-endpoint", "deployment": "recreate-deployment",
         "traffic": "set-endpoint-traffic"}
_FINE = frozenset({RESTORED, KEPT, "canceled"})


@dataclass(frozen=True)
class WorkloadResult:
    result: dict[str, Any]
    left_to_do: tuple[dict[str, Any], ...]


def workload_result(plan: MovePlan, snapshot: dict[str, Any] | None, *, moved: bool) -> WorkloadResult:
    """`result`: `workload` (each item's state), `renamedComputes` (old -> new), `workloadRestoredIn`;
    `left_to_do`: `{kind, target, message, definition, droppedSecrets}` for each item not back in place."""
    items = ((snapshot or {}).get("workload") or {}).get("items") or []
    where = plan.target_workspace.id if moved else plan.request.workspace.id
    todo = []
    for item in items:
        if item["state"] in _FINE or item["kind"] == "job":
            continue
        name = item.get("restoredName") or item["name"]
        reason = item.get("error") or f"it is {item['state']}: not re-created before the deadline"
        what = f"{item['kind']} {item['name']}" + (f" of endpoint {item['endpoint']}" if item.get("endpoint") else "")
        entry: dict[str, Any] = {
            "kind": _KIND.get(item["kind"], "recreate-compute"),
            "target": resource_id(where, item, name),
            "message": f"{what} existed before the move and could not be re-created "
            f"{'at the destination' if moved else 'at the source'}: {reason}; PUT the definition below by hand",
        }
        if item["kind"] == "traffic":
            entry["definition"] = {"properties": {"traffic": dict(item.get("traffic") or {})}}
        else:
            entry["definition"] = item.get("definition") or {}
        if item.get("droppedSecrets"):
            entry["droppedSecrets"] = list(item["droppedSecrets"])
            entry["message"] += f" (supply the secrets it needs: {', '.join(item['droppedSecrets'])})"
        todo.append(entry)
    result = {"workload": view(snapshot), "renamedComputes": renamed(snapshot) if moved else {},
              "workloadRestoredIn": where if items else None}
    return WorkloadResult(result, tuple(todo))
