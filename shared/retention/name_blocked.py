"""A failed create of a held name (ResourceWriteFailure): one `NameBlocked` alert per failed operation, to who hit it."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from shared.azure import alerts
from shared.retention.advice import iso_z, options_of, route_of
from shared.retention.arm_probe import FAILED, LIVE, WorkspaceProbe
from shared.retention.events import WriteFailureEvent
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger, ledger_key
from shared.retention.rules import MAX_HISTORY, effective_state

log = logging.getLogger("aml_lifecycle.workspace_events")

_OPERATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # correlation ids are GUIDs; anything else: the event id
MAX_SCAN = 1000  # soft-deleted rows of the subscription read to find the holder in another resource group


def holder_of(ledger: RetentionLedger, event: WriteFailureEvent) -> tuple[LedgerRow | None, bool]:
    """(the soft-deleted row holding the name at the failure's time, whether it is in another resource group).

    The same resource group first; else a soft-deleted workspace of that name elsewhere in the subscription (the
    docs do not say that it blocks there: the alert says "most likely" and names where the holder is)."""
    row = ledger.get_by_key(*ledger_key(event.workspace.subscription_id, event.workspace.resource_group,
                                        event.workspace.name))
    if row is not None and effective_state(row, event.event_time) is LedgerState.SOFT_DELETED:
        return row, False
    name = event.workspace.name.lower()
    for count, other in enumerate(ledger.iter_rows(subscription_id=event.workspace.subscription_id,
                                                   state=LedgerState.SOFT_DELETED)):
        if count >= MAX_SCAN:
            break
        if other.workspace_name == name and effective_state(other, event.event_time) is LedgerState.SOFT_DELETED:
            return other, True
    return None, False


def operation_of(event: WriteFailureEvent) -> str:
    """The failed operation's identity: its correlation id (shared by every redelivery), else the event id."""
    if event.correlation_id and _OPERATION_ID.match(event.correlation_id):
        return event.correlation_id
    return re.sub(r"[^A-Za-z0-9._:-]", "_", event.event_id)[:128]


def alert_data(event: WriteFailureEvent, held: LedgerRow, elsewhere: bool) -> dict[str, Any]:
    where = f" in resource group {held.resource_group}" if elsewhere else ""
    return {
        "workspaceId": event.workspace.id, "subscriptionId": event.workspace.subscription_id,
        "resourceGroup": event.workspace.resource_group, "workspaceName": event.workspace.name,
        "failedAt": iso_z(event.event_time), "failedCaller": event.caller, "correlationId": event.correlation_id,
        "heldBy": held.workspace_id, "deletedBy": held.deleted_by, "deletedAt": iso_z(held.deleted_at),
        "blockedUntil": iso_z(held.purge_after), "ledgerUrl": route_of(held.subscription_id, held.resource_group,
                                                                        held.workspace_name),
        "message": (f"Creating or updating workspace {event.workspace.name} failed at {iso_z(event.event_time)}. "
                    f"Most likely its name is held by the soft-deleted workspace {held.workspace_id}{where}, "
                    f"deleted by {held.deleted_by or 'an unknown caller'} at {iso_z(held.deleted_at)} and held until "
                    f"{iso_z(held.purge_after)}. The failure event carries no error text: check the deployment's "
                    "error before acting."),
        "options": options_of(held),
    }


def on_write_failure(clients: Any, ledger: RetentionLedger, event: WriteFailureEvent) -> str:
    """`sent`, `unchanged` (this operation was alerted already: a redelivery) or `ignored` (no held name).

    Publishes first, then records the operation on the holder's row (`NameBlockedOps`, ETag-guarded); a crash in
    between can repeat the alert with the same id, which consumers drop. A failed publish raises AlertPublishError
    (Event Grid redelivers)."""
    held, elsewhere = holder_of(ledger, event)
    if held is None:
        log.debug("failed write of %s: the ledger holds no soft-deleted workspace of that name", event.workspace.id)
        return "ignored"
    operation = operation_of(event)
    if operation in held.blocked_ops:
        return "unchanged"
    # A failed update of a live workspace is not a blocked name (the ledger may lag a portal recovery): ask ARM.
    probe = WorkspaceProbe(clients.arm_pipeline())(event.workspace.id)
    if probe.outcome == LIVE:
        log.info("failed write of %s: the workspace is live, not a blocked name", event.workspace.id)
        return "ignored"
    data = alert_data(event, held, elsewhere)
    data["armCheck"] = {"status": "unconfirmed" if probe.outcome == FAILED else "confirmed",
                        "armSaid": probe.detail}
    alerts.publish_alert(clients, alerts.WORKSPACE_NAME_BLOCKED, event.workspace.id, data,
                         event_id=alerts.alert_id(*held.key, operation, "nameBlocked"))

    def record(current: LedgerRow | None) -> LedgerRow | None:
        if current is None or operation in current.blocked_ops:
            return None
        return replace(current, blocked_ops=(*current.blocked_ops, operation)[-MAX_HISTORY:])

    ledger.update(*held.key, record, known=held)
    log.info("name blocked: %s failed (operation %s); held by %s", event.workspace.id, operation, held.workspace_id)
    return "sent"
