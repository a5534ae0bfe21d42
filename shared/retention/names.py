"""`GET /api/names/{sub}/{rg}/{name}`: who holds a workspace name, and until when, from ARM, the ledger and the Activity Log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.azure import tables
from shared.azure.activity_log import read_activity_log
from shared.azure.arm_ids import workspace_id
from shared.retention.activity import deletes_in
from shared.retention.activity_backfill import window
from shared.retention.advice import iso_z, options_of, route_of
from shared.retention.api import check_route
from shared.retention.arm_probe import FAILED, LIVE, WorkspaceProbe
from shared.retention.ingest import RetentionEvents
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
from shared.retention.purge import purge_pending, purge_record
from shared.retention.rules import effective_state
from shared.settings import Settings

MAX_SCAN = 5000  # soft-deleted rows read to find other holders of the name
OTHERS_NOTE = ("Public sources (Azure ML concept-soft-delete) say a soft-deleted workspace's name cannot be reused "
               "until it is purged or its retention ends; they do not say whether that blocks the same name in other "
               "resource groups or subscriptions. These are the other soft-deleted workspaces of this name the ledger "
               "knows; whether they block this one is not claimed either way.")


class NameCheck:
    def __init__(self, clients: Any, settings: Settings) -> None:
        self.clients, self.settings = clients, settings
        self.ledger = RetentionLedger(tables.table(clients.tables(), tables.RETENTION))

    def check(self, subscription_id: str, resource_group: str, name: str, *, now: datetime) -> dict[str, Any]:
        """`{"status": inUse | softDeleted | purgeRequested | free | unknown, "evidence": [...], ...}` (docs/retention.md,
        "Name check"). `free` only on proof: ARM 404, no open delete in the ledger, and an Activity Log read of the
        longest retention that completed without a delete still holding the name. Raises ApiError(400) on a bad route.
        """
        check_route(subscription_id, resource_group, name)
        ws = workspace_id(subscription_id, resource_group, name).id
        body: dict[str, Any] = {"subscriptionId": subscription_id, "resourceGroup": resource_group,
                                "workspaceName": name, "workspaceId": ws, "checkedAt": iso_z(now)}
        probe = WorkspaceProbe(self.clients.arm_pipeline())(ws)
        evidence: list[dict[str, Any]] = [{"source": "arm", "said": probe.detail or probe.outcome}]
        body["evidence"] = evidence
        if probe.outcome == LIVE:
            return {**body, "status": "inUse", "internalWorkspaceId": probe.internal_id}
        if probe.outcome == FAILED:
            return {**body, "status": "unknown", "reason": f"ARM could not be read ({probe.detail}): try again"}
        start, end = window(now)
        read = read_activity_log(self.clients.arm_pipeline(), subscription_id, start, end, resource_uri=ws)
        deletes = deletes_in(read.entries)
        events = RetentionEvents(self.clients, self.settings)
        for event in deletes:  # a delete the ledger missed is learned here, through the same rules
            events.apply_delete(event, now=now)
        evidence.append({"source": "activityLog", **read.describe(), "deletes": [
            {"at": iso_z(e.event_time), "by": e.caller, "purge": e.force_to_purge, "correlationId": e.correlation_id}
            for e in deletes]})
        row = self.ledger.get(subscription_id, resource_group, name)
        evidence.append(_ledger_evidence(row))
        others = self._others(row, ws, name, now)
        if others:
            body.update(otherHolders=others, otherHoldersNote=OTHERS_NOTE)
        state = effective_state(row, now) if row is not None else None
        if row is not None and state is LedgerState.SOFT_DELETED:
            held = {"blockedUntil": iso_z(row.purge_after), "deletedAt": iso_z(row.deleted_at),
                    "deletedBy": row.deleted_by, "ledgerUrl": route_of(subscription_id, resource_group, name),
                    "options": options_of(row)}
            if purge_pending(row):
                return {**body, **held, "status": "purgeRequested", "purge": purge_record(row)}
            return {**body, **held, "status": "softDeleted"}
        if not read.complete:
            return {**body, "status": "unknown", "reason": "the Activity Log read did not cover the longest "
                                                          f"retention (14 days): {read.error}"}
        if row is not None and state is LedgerState.RECOVERED:
            return {**body, "status": "unknown", "reason": (
                "the ledger last saw this workspace recovered, ARM no longer finds it, and the Activity Log of the "
                "last 14 days shows no delete of it: it cannot be told whether the name is held")}
        return {**body, "status": "free", "reason": (
            "ARM has no workspace of this name here, the ledger holds no open delete of it, and the Activity Log of "
            "the last 14 days (the longest retention), read completely, shows no delete still holding it. Entries "
            "reach the Activity Log after a short delay: a delete made in the last minutes may not be in it yet.")}

    def _others(self, row: LedgerRow | None, ws: str, name: str, now: datetime) -> list[dict[str, Any]]:
        found = []
        for count, other in enumerate(self.ledger.iter_rows(state=LedgerState.SOFT_DELETED)):
            if count >= MAX_SCAN:
                break
            if other.workspace_name == name.lower() and other.workspace_id.lower() != ws.lower() \
                    and now < other.purge_after:
                found.append({"workspaceId": other.workspace_id, "state": other.state.value,
                              "blockedUntil": iso_z(other.purge_after), "deletedBy": other.deleted_by,
                              "ledgerUrl": route_of(other.subscription_id, other.resource_group, other.workspace_name),
                              "marked": "another holder of this name the ledger knows (see otherHoldersNote)"})
        return found


def _ledger_evidence(row: LedgerRow | None) -> dict[str, Any]:
    if row is None:
        return {"source": "ledger", "said": "no row: the app never saw this workspace deleted"}
    return {"source": "ledger", "state": row.state.value, "deletedAt": iso_z(row.deleted_at),
            "purgeAfter": iso_z(row.purge_after), "learnedFrom": row.source, "reason": row.reason}
