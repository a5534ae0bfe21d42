"""The retention ledger (table `WorkspaceRetention`): typed rows, reads, paged queries and ETag-guarded updates."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Callable, Iterable, Iterator

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared import logs
from shared.azure.table_batch import read_many
from shared.azure.table_paging import InvalidContinuationToken, decode_token, encode_token  # noqa: F401 (re-exported)
from shared.retention.history import HistoryEntry

log = logging.getLogger("aml_lifecycle.ledger")

MAX_UPDATE_ATTEMPTS = 12
MAX_PAGE_SIZE = 1000


class LedgerState(str, Enum):
    SOFT_DELETED = "SoftDeleted"
    RECOVERED = "Recovered"
    PERMANENTLY_DELETED = "PermanentlyDeleted"
    EXPIRED = "Expired"

    @property
    def closed(self) -> bool:
        """The episode is over and the name is free: a write is a new workspace, a delete a new episode."""
        return self in (LedgerState.PERMANENTLY_DELETED, LedgerState.EXPIRED)


class LedgerConflictError(RuntimeError):
    """A row kept changing under us for every attempt (heavy contention); raised so the trigger retries."""


def ledger_key(subscription_id: str, resource_group: str, workspace_name: str) -> tuple[str, str]:
    """(PartitionKey, RowKey) of a workspace: subscription id, `<resource group>|<workspace name>`, lower case."""
    return subscription_id.lower(), f"{resource_group}|{workspace_name}".lower()


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return datetime(*value.utctimetuple()[:6], value.microsecond, tzinfo=timezone.utc)  # a plain datetime


@dataclass(frozen=True)
class LedgerRow:
    """One workspace's soft-delete episode (docs/tables.md, plus CMK facts and the pending-alert claim)."""

    subscription_id: str
    resource_group: str
    workspace_name: str
    workspace_id: str
    state: LedgerState
    deleted_at: datetime
    purge_after: datetime
    retention_days: int
    deleted_by: str | None = None
    correlation_id: str | None = None
    last_event_time: datetime | None = None
    last_event_id: str | None = None
    alerts_sent: tuple[str, ...] = ()
    cmk_enabled: bool | None = None
    managed_resource_group: str | None = None
    alert_claim: str | None = None
    reason: str | None = None  # why the row is in its state when the event alone does not say: closed on arrival,
    # not soft-deleted (identity), deleted with its group, or what the sweep concluded from ARM (reconcile.py)
    noticed: tuple[str, ...] = ()  # DeletedAt (ISO) of each episode whose soft-delete alert went out
    history: tuple[HistoryEntry, ...] = ()
    base: "LedgerRow | None" = None  # the row before the oldest event in `history`
    base_until: datetime | None = None  # newest event folded into `base`: anything older is stale
    reconciled_at: datetime | None = None  # last workspace GET that answered (reconcile.py)
    arm_said: str | None = None  # what that GET said, in words
    internal_id: str | None = None  # properties.workspaceId of the deleted workspace, copied from the inventory
    kind: str | None = None  # the workspace's ARM `kind` (Default, Hub, Project, FeatureStore), from the inventory
    hub_resource_id: str | None = None  # a project's hub, from the inventory
    source: str = "event"  # where the app learned the row's state: event | activityLog | reconcile
    purge: str | None = None  # JSON of the last purge request through the API (shared/retention/purge.py)
    blocked_ops: tuple[str, ...] = ()  # correlation ids of failed creates already alerted as NameBlocked
    etag: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return ledger_key(self.subscription_id, self.resource_group, self.workspace_name)

    def time_left(self, now: datetime) -> float:
        """Seconds until PurgeAfter (negative once passed)."""
        return (self.purge_after - now).total_seconds()

    def with_alert(self, token: str) -> "LedgerRow":
        sent = self.alerts_sent if token in self.alerts_sent else (*self.alerts_sent, token)
        return replace(self, alerts_sent=sent)

    def to_entity(self) -> dict[str, Any]:
        pk, rk = self.key
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": rk, "WorkspaceId": self.workspace_id,
            "State": self.state.value,
            "DeletedAt": self.deleted_at,
            "PurgeAfter": self.purge_after,
            "RetentionDays": self.retention_days,
            "DeletedBy": self.deleted_by,
            "CorrelationId": self.correlation_id,
            "LastEventTime": self.last_event_time,
            "LastEventId": self.last_event_id,
            "AlertsSent": ",".join(self.alerts_sent),
            "CmkEnabled": self.cmk_enabled,
            "ManagedResourceGroup": self.managed_resource_group,
            "AlertClaim": self.alert_claim,
            "Reason": self.reason,
            "Noticed": ",".join(self.noticed) or None,
            "History": json.dumps([h.to_json() for h in self.history], separators=(",", ":")) if self.history else None,
            "Base": json.dumps(self.base.to_entity(), default=datetime.isoformat, separators=(",", ":"))
            if self.base else None,
            "BaseUntil": self.base_until,
            "ReconciledAt": self.reconciled_at,
            "ArmSaid": self.arm_said,
            "InternalWorkspaceId": self.internal_id,
            "Kind": self.kind,
            "HubResourceId": self.hub_resource_id,
            "Source": self.source,
            "PurgeRequest": self.purge,
            "NameBlockedOps": ",".join(self.blocked_ops) or None,
        }
        return {name: value for name, value in entity.items() if value is not None}

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> "LedgerRow":
        group, _, name = entity["RowKey"].partition("|")
        etag = getattr(entity, "metadata", {}).get("etag")
        return cls(
            subscription_id=entity["PartitionKey"],
            resource_group=group, workspace_name=name,
            workspace_id=entity.get("WorkspaceId") or "",
            state=LedgerState(entity["State"]),
            deleted_at=utc(entity["DeletedAt"]),
            purge_after=utc(entity["PurgeAfter"]),
            retention_days=int(entity.get("RetentionDays") or 0),
            deleted_by=entity.get("DeletedBy"),
            correlation_id=entity.get("CorrelationId"),
            last_event_time=utc(entity.get("LastEventTime")),
            last_event_id=entity.get("LastEventId"),
            alerts_sent=tuple(t for t in (entity.get("AlertsSent") or "").split(",") if t),
            cmk_enabled=entity.get("CmkEnabled"),
            managed_resource_group=entity.get("ManagedResourceGroup"),
            alert_claim=entity.get("AlertClaim"),
            reason=entity.get("Reason"),
            noticed=tuple(t for t in (entity.get("Noticed") or "").split(",") if t),
            history=tuple(HistoryEntry.from_json(h) for h in json.loads(entity.get("History") or "[]")),
            base=_base(entity.get("Base")),
            base_until=utc(entity.get("BaseUntil")),
            reconciled_at=utc(entity.get("ReconciledAt")),
            arm_said=entity.get("ArmSaid"),
            internal_id=entity.get("InternalWorkspaceId"),
            kind=entity.get("Kind"),
            hub_resource_id=entity.get("HubResourceId"),
            source=entity.get("Source") or "event",
            purge=entity.get("PurgeRequest"),
            blocked_ops=tuple(t for t in (entity.get("NameBlockedOps") or "").split(",") if t),
            etag=etag,
        )


def _base(text: str | None) -> "LedgerRow | None":
    if not text:
        return None
    entity = json.loads(text)
    for name in ("DeletedAt", "PurgeAfter", "LastEventTime", "BaseUntil", "ReconciledAt"):
        if entity.get(name):
            entity[name] = datetime.fromisoformat(entity[name])
    return LedgerRow.from_entity(entity)


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    continuation_token: str | None


class RetentionLedger:
    """Reads and writes `WorkspaceRetention` rows; every write is ETag-guarded (no lost update)."""

    def __init__(self, table_client: TableClient) -> None:
        self._table = table_client

    def get(self, subscription_id: str, resource_group: str, workspace_name: str) -> LedgerRow | None:
        """The workspace's row, or None if it was never soft-deleted (names compared case-insensitively)."""
        return self.get_by_key(*ledger_key(subscription_id, resource_group, workspace_name))

    def get_by_key(self, partition_key: str, row_key: str) -> LedgerRow | None:
        try:
            return LedgerRow.from_entity(self._table.get_entity(partition_key, row_key))
        except ResourceNotFoundError:
            return None

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], LedgerRow]:
        """{key: row} of the keys that have a row, with ETags: one query per partition and 14 rows (table_batch)."""
        return {key: LedgerRow.from_entity(e) for key, e in read_many(self._table, keys).items()}

    def create(self, row: LedgerRow) -> LedgerRow:
        """Insert a row that should not exist yet (one request); raises ResourceExistsError if it does.

        Sent with `Prefer: return-no-content` (Insert Entity, Table service REST API): 204 and the ETag header, without
        the row echoed back for the SDK to parse.
        """
        metadata = self._table.create_entity(row.to_entity(), response_preference="return-no-content")
        return replace(row, etag=(metadata or {}).get("etag"))

    def replace_row(self, row: LedgerRow, etag: str) -> LedgerRow:
        """Replace the row if it is still at `etag` (one request); raises ResourceModifiedError otherwise."""
        metadata = self._table.update_entity(row.to_entity(), mode=UpdateMode.REPLACE, etag=etag,
                                             match_condition=MatchConditions.IfNotModified)
        return replace(row, etag=(metadata or {}).get("etag"))

    def query(
        self,
        *,
        subscription_id: str | None = None,
        state: LedgerState | None = None,
        purge_before: datetime | None = None,
        top: int = 100,
        continuation_token: str | None = None,
    ) -> LedgerPage:
        """One page of rows matching every given filter; pass the returned token back for the next page."""
        clauses, params = [], {}
        if subscription_id:
            clauses.append("PartitionKey eq @pk")
            params["pk"] = subscription_id.lower()
        if state is not None:
            clauses.append("State eq @state")
            params["state"] = state.value
        if purge_before is not None:
            clauses.append("PurgeAfter le @before")
            params["before"] = utc(purge_before)
        top = max(1, min(top, MAX_PAGE_SIZE))
        pages = self._table.query_entities(
            " and ".join(clauses) or "PartitionKey ne ''", parameters=params, results_per_page=top
        ).by_page(continuation_token=decode_token(continuation_token))
        rows = [LedgerRow.from_entity(entity) for entity in next(pages, [])]
        return LedgerPage(rows, encode_token(pages.continuation_token))

    def iter_rows(self, **filters: Any) -> Iterator[LedgerRow]:
        token = None
        while True:
            page = self.query(**filters, top=MAX_PAGE_SIZE, continuation_token=token)
            yield from page.rows
            if not page.continuation_token:
                return
            token = page.continuation_token

    def update(
        self,
        partition_key: str,
        row_key: str,
        change: Callable[[LedgerRow | None], LedgerRow | None],
        *,
        before_write: Callable[[LedgerRow | None, LedgerRow], None] | None = None,
        known: LedgerRow | None = None,
    ) -> tuple[LedgerRow | None, bool]:
        """Read-modify-write with ETags: `change(current)` returns the new row, or None for no change. `change` may run
        several times (it must be pure). `before_write(old, new)` runs before each write (e.g. to write schedule
        entries first). `known`, a row just read or written with its ETag, saves the first read. Returns (row as
        stored, whether this call wrote it)."""
        for attempt in range(MAX_UPDATE_ATTEMPTS):
            reuse = attempt == 0 and known is not None and known.etag
            current = known if reuse else self.get_by_key(partition_key, row_key)
            new = change(current)
            if new is None or (current is not None and new == current):
                return current, False
            if before_write is not None:
                before_write(current, new)
            try:
                if current is None:
                    metadata = self._table.create_entity(new.to_entity())
                else:
                    metadata = self._table.update_entity(
                        new.to_entity(), mode=UpdateMode.REPLACE, etag=current.etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError):
                log.debug("ledger row %s|%s changed concurrently (attempt %d); retrying",
                          partition_key, row_key, attempt + 1, extra=logs.fields(workspace_id=new.workspace_id))
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
                continue
            logs.ledger_transition(current, new)
            return replace(new, etag=(metadata or {}).get("etag")), True
        raise LedgerConflictError(
            f"ledger row {partition_key}|{row_key} kept changing; gave up after {MAX_UPDATE_ATTEMPTS} attempts")
