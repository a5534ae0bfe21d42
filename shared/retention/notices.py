"""Retention alerts: what each says, and sending one exactly once per episode (claim, publish, mark sent)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Callable

from shared.azure import alerts
from shared.retention.advice import options_of
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger, utc
from shared.retention.rules import with_notices
from shared.retention.schedule import DELETED, EXPIRED
from shared.times import iso_z

log = logging.getLogger("aml_lifecycle.notices")

CLAIM_LEASE = timedelta(minutes=2)
NOT_RESTORED = [
    "compute instances and compute clusters (hard-deleted: re-create them)",
    "online and batch inference endpoints and their deployments (hard-deleted: re-deploy them)",
    "queued and running jobs (hard-deleted: submit them again)",
    "role assignments on the workspace (re-attached best-effort: verify them)",
    "linked Azure Databricks workspace (re-attached best-effort: verify the link)",
]
CMK_WARNING = (
    "This workspace uses a customer-managed key: its managed resource group{group} keeps running and is billed "
    "until the workspace is permanently deleted (purged) or the retention window closes."
)


@dataclass(frozen=True)
class Selection:
    """The alert to send now and the pending ones it stands for (a missed sweep sends only the most urgent)."""

    token: str
    covers: tuple[str, ...] = ()
    expire: bool = False


class Outcome(str, Enum):
    SENT = "sent"
    NOTHING = "nothing"  # already sent, or nothing pending
    BUSY = "busy"  # another delivery or sweep holds the claim
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    token: str | None = None
    workspace_id: str | None = None
    row: LedgerRow | None = None  # the row as last read or written


def alert_for(row: LedgerRow, token: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """(event type, data) of the row's alert `token` (`deleted`, a threshold in days, or `expired`)."""
    data: dict[str, Any] = {
        "workspaceId": row.workspace_id,
        "subscriptionId": row.subscription_id,
        "resourceGroup": row.resource_group,
        "workspaceName": row.workspace_name,
        "deletedAt": iso_z(row.deleted_at),
        "purgeAfter": iso_z(row.purge_after),
        "retentionDays": row.retention_days,
        "deletedBy": row.deleted_by,
        "correlationId": row.correlation_id,
        "source": row.source,
    }
    if row.cmk_enabled:
        group = f" ({row.managed_resource_group})" if row.managed_resource_group else ""
        data["cmkCostWarning"] = CMK_WARNING.format(group=group)
        data["managedResourceGroup"] = row.managed_resource_group
    if token == EXPIRED:
        data["message"] = ("The retention window closed: the workspace is permanently deleted and its name can be "
                           "reused.")
        return alerts.RETENTION_EXPIRED, data
    data["recoveryOptions"] = recovery_options(row)
    data["notRestoredOnRecovery"] = NOT_RESTORED
    if token == DELETED:
        return alerts.WORKSPACE_SOFT_DELETED, data
    seconds = max(0, int(row.time_left(now)))
    data.update(thresholdDays=int(token), daysLeft=seconds // 86400, hoursLeft=seconds // 3600)
    return alerts.RETENTION_EXPIRING_SOON, data


def recovery_options(row: LedgerRow) -> list[dict[str, str]]:
    """The shared instruction (advice.py): recover in the portal's Recently deleted, dependencies first; or purge."""
    return options_of(row)


def deliver(
    clients: Any,
    ledger: RetentionLedger,
    key: tuple[str, str],
    select: Callable[[LedgerRow, datetime], Selection | None],
    *,
    now: datetime,
    known: LedgerRow | None = None,
    extra: dict[str, Any] | None = None,
) -> Delivery:
    """Claim the row's pending alert (ETag-guarded), publish it, then record it sent; at most one sender wins.

    `extra` is merged into the alert's data (the sweep's ARM check: confirmed, or unconfirmed and why).
    """
    nonce = secrets.token_hex(6)
    chosen: dict[str, Selection] = {}

    def claim(row: LedgerRow | None) -> LedgerRow | None:
        chosen.pop("s", None)
        if row is None or _claim_live(row, now):
            return None
        selection = select(row, now)
        if selection is None:
            return None
        chosen["s"] = selection
        state = LedgerState.EXPIRED if selection.expire and row.state is LedgerState.SOFT_DELETED else row.state
        return replace(row, state=state, alert_claim=f"{selection.token}|{utc(now + CLAIM_LEASE).isoformat()}|{nonce}")

    row, wrote = ledger.update(*key, claim, known=known)
    if not wrote:
        if row is not None and _claim_live(row, now) and not row.alert_claim.endswith(nonce):
            return Delivery(Outcome.BUSY, row=row)
        return Delivery(Outcome.NOTHING, row=row)
    selection = chosen["s"]
    event_type, data = alert_for(row, selection.token, now)
    if extra:
        data.update(extra)
    try:
        alerts.publish_alert(clients, event_type, row.workspace_id, data,
                             event_id=alerts.alert_id(*row.key, row.deleted_at.isoformat(), selection.token))
        sent = True
    except alerts.AlertPublishError:
        sent = False

    def settle(current: LedgerRow | None) -> LedgerRow | None:
        if current is None:
            return None
        mine = current.alert_claim is not None and current.alert_claim.endswith(nonce)
        if not sent:
            return replace(current, alert_claim=None) if mine else None
        updated = current
        for token in (*selection.covers, selection.token):
            updated = updated.with_alert(token)
        if DELETED in (*selection.covers, selection.token):  # the episode's notice is out, whatever it is called
            updated = with_notices(updated, [updated])
        return replace(updated, alert_claim=None if mine else current.alert_claim)

    settled, _ = ledger.update(*key, settle, known=row)
    return Delivery(Outcome.SENT if sent else Outcome.FAILED, selection.token, row.workspace_id, settled or row)


def _claim_live(row: LedgerRow, now: datetime) -> bool:
    if not row.alert_claim:
        return False
    try:
        until = datetime.fromisoformat(row.alert_claim.split("|")[1])
    except (IndexError, ValueError):
        return False
    return until > now
