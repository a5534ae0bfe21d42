"""The single-row GET's ARM check: one bounded workspace GET (as the sweep's reconciliation does), the row settled from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.retention.advice import iso_z
from shared.retention.arm_probe import FAILED, LIVE, WorkspaceProbe
from shared.retention.inventory import Inventory
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
from shared.retention.reconcile import checked, judge, recorded_internal_id


def settle_from_arm(clients: Any, ledger: RetentionLedger, inventory: Inventory, row: LedgerRow,
                    now: datetime) -> tuple[LedgerRow, dict[str, Any]]:
    """(row as it now stands, `armCheck`). A row the sweep would check (soft-deleted, or marked recovered by a write)
    is judged from a Workspaces_Get with reconcile.judge and written ETag-guarded; a failed GET changes nothing
    and says `unconfirmed`. Other rows are closed: ARM is not asked."""
    if not checked(row):
        return row, {"status": "notChecked", "detail": f"the row is {row.state.value}: closed"}
    result = WorkspaceProbe(clients.arm_pipeline())(row.workspace_id)
    if result.outcome == FAILED:
        return row, {"status": "unconfirmed", "at": iso_z(now), "detail": result.detail,
                     "message": "ARM could not be read: the row is shown as the ledger has it"}
    recorded = None
    if result.outcome == LIVE or not row.internal_id:
        recorded = recorded_internal_id(row, inventory.get(row.subscription_id, row.resource_group,
                                                           row.workspace_name))
    judged = judge(row, recorded, result, now)

    def change(current: LedgerRow | None) -> LedgerRow | None:
        if current is None or (current.state, current.deleted_at) != (row.state, row.deleted_at):
            return None  # an event moved the row on meanwhile: it wins
        moved = judged.state is not current.state
        settled = replace(current, state=judged.state, reason=judged.reason, arm_said=judged.arm_said,
                          reconciled_at=judged.reconciled_at, internal_id=judged.internal_id,
                          source="reconcile" if moved else current.source)
        if not moved:
            return settled
        # As the sweep does (reconcile.py): ARM's answer supersedes the events so far.
        base = replace(settled, history=(), base=None, base_until=None, alerts_sent=(), alert_claim=None,
                       reconciled_at=None, arm_said=None, reason=None, etag=None)
        return replace(settled, history=(), base=base, base_until=max(now, current.last_event_time or now))

    stored, _ = ledger.update(*row.key, change, known=row)
    stored = stored or row
    return stored, {"status": "confirmed", "at": iso_z(now), "armSaid": judged.arm_said,
                    "state": stored.state.value, "live": result.outcome == LIVE,
                    "changed": stored.state is not row.state and stored.state is not LedgerState.SOFT_DELETED}
