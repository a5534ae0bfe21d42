"""The quiesce option's activities: snapshot the workload onto the move row, then quiesce / restore / compensate passes.

The workload lives in the row's `Snapshot` JSON under `workload.items` (definitions without secrets, and each
item's state), so every pass starts from what the previous one recorded and a replay repeats nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from shared.azure.clients import AzureClients
from shared.azure.ml_workload import WorkloadGateway
from shared.moves.plan import MovePlan
from shared.moves.store import MoveRecord, MovesStore
from shared.moves.workload.quiesce import quiesce_pass
from shared.moves.workload.restore import RESTORE_FAILED, restore_pass
from shared.moves.workload.snapshot import take_workload

log = logging.getLogger("aml_lifecycle.moves")
QUIESCE, RESTORE, COMPENSATE = "quiesce", "restore", "compensate"
PHASES = (QUIESCE, RESTORE, COMPENSATE)
_FAILED_STATES = frozenset({"remove-failed", RESTORE_FAILED})


def _gateway(clients: AzureClients) -> WorkloadGateway:
    return WorkloadGateway(clients.arm_pipeline(), arm_endpoint=clients.settings.arm_endpoint)


def items_of(record: MoveRecord | None) -> list[dict[str, Any]] | None:
    workload = ((record.snapshot if record else None) or {}).get("workload")
    return None if workload is None else list(workload.get("items") or [])


def snapshot_workload(clients: AzureClients, plan: MovePlan) -> dict[str, Any]:
    """Read the workload once and store it on the row; a repeat returns what the first call stored (by then the
    workspace may already be half quiesced, so it is never read again)."""
    store = MovesStore.of(clients)
    existing = items_of(store.get(plan.move_id, partition=plan.partition))
    if existing is not None:
        return summary(existing)
    items = take_workload(_gateway(clients), plan.request.workspace.id, cancel_jobs=plan.request.cancel_jobs)

    def change(record: MoveRecord) -> None:
        snapshot = dict(record.snapshot or {})
        if "workload" not in snapshot:
            snapshot["workload"] = {"items": items}
        record.snapshot = snapshot
        record.put_step("workload-snapshot", "succeeded", counts=dict(Counter(i["kind"] for i in items)))

    record = store.update(plan.partition, plan.move_id, change)
    return summary(items_of(record) or [])


def advance(clients: AzureClients, plan: MovePlan, phase: str, round_number: int) -> dict[str, Any]:
    """One pass of `phase` over the stored items; the row gets their new states. Returns `summary(...)`."""
    if phase not in PHASES:
        raise ValueError(f"unknown workload phase {phase!r}")
    store = MovesStore.of(clients)
    items = items_of(store.get(plan.move_id, partition=plan.partition)) or []
    gw = _gateway(clients)
    if phase == QUIESCE:
        done = quiesce_pass(gw, plan.request.workspace.id, items)
    elif phase == RESTORE:
        done = restore_pass(
            gw, plan.target_workspace.id, items, move_id=plan.move_id, moved=True, rebase=plan.moved_id
        )
    else:
        done = restore_pass(gw, plan.request.workspace.id, items, move_id=plan.move_id, moved=False)
    result = summary(items, done=done)

    def change(record: MoveRecord) -> None:
        snapshot = dict(record.snapshot or {})
        snapshot["workload"] = {**(snapshot.get("workload") or {}), "items": items}
        record.snapshot = snapshot
        step = record.step(phase) or {}
        status = ("failed" if result["failed"] else "succeeded") if done else "running"
        record.put_step(phase, status, rounds=max(int(step.get("rounds") or 0), round_number),
                        counts=result["counts"])

    store.update(plan.partition, plan.move_id, change)
    if done:
        log.info("move %s: %s done %s", plan.move_id, phase, result["counts"])
    return result


def summary(items: list[dict[str, Any]], *, done: bool = True) -> dict[str, Any]:
    """`{"done", "count", "counts": {state: n}, "failed": n}` (JSON-safe, for the orchestration history)."""
    counts = dict(Counter(i["state"] for i in items))
    return {"done": done, "count": len(items), "counts": counts,
            "failed": sum(1 for i in items if i["state"] in _FAILED_STATES)}


def view(snapshot: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The status view of each item: what it is, its state, where it was re-created and under which name."""
    out = []
    for item in ((snapshot or {}).get("workload") or {}).get("items") or []:
        entry = {k: item[k] for k in ("kind", "name", "endpoint", "computeType", "state", "restoredName",
                                     "restoredId", "error") if item.get(k) is not None}
        if item["kind"] == "traffic":
            entry["traffic"] = item.get("traffic") or {}
        out.append(entry)
    return out


def renamed(snapshot: dict[str, Any] | None) -> dict[str, str]:
    """Compute instances re-created under a new name: old name -> new name."""
    return {i["name"]: i["restoredName"] for i in ((snapshot or {}).get("workload") or {}).get("items") or []
            if i.get("restoredName") and i["restoredName"] != i["name"] and i["state"] == "restored"}
