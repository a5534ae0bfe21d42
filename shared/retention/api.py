"""The retention HTTP API's service side: query validation, paging, and the JSON shape of ledger rows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from shared.azure import tables
from shared.azure.arm_ids import ArmIdError, ResourceGroupId, check_workspace_name, is_guid
from shared.errors import ApiError, bad_request
from shared.retention.inventory import Inventory
from shared.retention.kinds import add_kind, inventory_json
from shared.retention.ledger import (
    MAX_PAGE_SIZE,
    InvalidContinuationToken,
    LedgerRow,
    LedgerState,
    RetentionLedger,
    decode_token,
)
from shared.retention.recoverability import recovery_report
from shared.retention.row_check import settle_from_arm
from shared.times import iso_z
from shared.untrusted_input import ascii_int

DEFAULT_PAGE_SIZE = 100
MAX_SCAN = 5000
MAX_EXPIRING_DAYS = 3650


@dataclass(frozen=True)
class ListQuery:
    subscription_id: str | None = None
    state: LedgerState | None = None
    expiring_within_days: float | None = None
    top: int = DEFAULT_PAGE_SIZE
    continuation_token: str | None = None
    order: str | None = None  # "asc" | "desc" by PurgeAfter
    name: str | None = None  # workspace name, case-insensitive

    @property
    def scanning(self) -> bool:
        """Sorting or a name filter: Table Storage does neither, so matching rows are read (bounded) and paged here."""
        return self.order is not None or self.name is not None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "ListQuery":
        """Validate the query string; a bad value is a 400 naming its parameter."""
        known = {"subscriptionId", "state", "expiringWithinDays", "top", "continuationToken", "orderby", "name", "code"}
        for name in params:
            if name not in known:
                raise bad_request(name, f"unknown query parameter; use {', '.join(sorted(known - {'code'}))}")
        sub = params.get("subscriptionId") or None
        if sub is not None and not is_guid(sub):
            raise bad_request("subscriptionId", f"must be a subscription GUID, got {sub!r}")
        state = None
        if params.get("state"):
            by_name = {s.value.lower(): s for s in LedgerState}
            state = by_name.get(params["state"].lower())
            if state is None:
                allowed = ", ".join(s.value for s in LedgerState)
                raise bad_request("state", f"must be one of {allowed}, got {params['state']!r}")
        days = None
        if params.get("expiringWithinDays"):
            try:  # ASCII only: float() also reads Unicode digits ("١٢" is 12.0), which no client means
                days = float(params["expiringWithinDays"]) if params["expiringWithinDays"].isascii() else -1.0
            except ValueError:
                days = -1.0
            if not 0 <= days <= MAX_EXPIRING_DAYS or days != days:
                raise bad_request("expiringWithinDays", f"must be a number of days from 0 to {MAX_EXPIRING_DAYS}")
            if state not in (None, LedgerState.SOFT_DELETED):
                raise bad_request(
                    "state", "expiringWithinDays selects SoftDeleted rows; drop state or set it to SoftDeleted")
            state = LedgerState.SOFT_DELETED
        top = DEFAULT_PAGE_SIZE
        if params.get("top"):
            parsed = ascii_int(params["top"])  # `²`.isdigit() is True, int("²") raises
            if parsed is None or not 1 <= parsed <= MAX_PAGE_SIZE:
                raise bad_request("top", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
            top = parsed
        order = None
        if params.get("orderby"):
            field, _, direction = params["orderby"].strip().partition(" ")
            order = (direction.strip() or "asc").lower()
            if field.lower() != "purgeafter" or order not in ("asc", "desc"):
                raise bad_request("orderby", "must be purgeAfter, purgeAfter asc or purgeAfter desc")
        name = params.get("name") or None
        if name is not None:
            try:
                check_workspace_name(name)
            except ArmIdError as exc:
                raise bad_request("name", str(exc)) from None
        token = params.get("continuationToken") or None
        if token is not None and (order or name):
            if not re.fullmatch(r"o\.\d{1,6}", token):
                raise bad_request("continuationToken", "is not a token this query returned")
        elif token is not None:
            try:
                decode_token(token)
            except InvalidContinuationToken as exc:
                raise bad_request("continuationToken", str(exc)) from None
        return cls(sub, state, days, top, token, order, name)


def row_json(row: LedgerRow, now: datetime) -> dict[str, Any]:
    """A ledger row as the API shows it: times ISO 8601 UTC with `Z`; `daysLeft`/`hoursLeft` while soft-deleted."""
    body: dict[str, Any] = {
        "subscriptionId": row.subscription_id, "resourceGroup": row.resource_group, "workspaceName": row.workspace_name,
        "workspaceId": row.workspace_id, "state": row.state.value, "source": row.source,
        "deletedAt": iso_z(row.deleted_at), "purgeAfter": iso_z(row.purge_after), "retentionDays": row.retention_days,
        "deletedBy": row.deleted_by, "correlationId": row.correlation_id,
        "lastEventTime": iso_z(row.last_event_time), "lastEventId": row.last_event_id,
        "alertsSent": list(row.alerts_sent), "cmkEnabled": row.cmk_enabled,
        "managedResourceGroup": row.managed_resource_group, "lastReconciledAt": iso_z(row.reconciled_at),
        "armSaid": row.arm_said, "reason": row.reason,
        "kind": row.kind, "hubResourceId": row.hub_resource_id,  # from the inventory when it was deleted
    }
    if row.state is LedgerState.SOFT_DELETED:
        seconds = max(0, int(row.time_left(now)))
        body.update(daysLeft=seconds // 86400, hoursLeft=seconds // 3600)
    if row.purge:
        body["purge"] = json.loads(row.purge)
    return body


class RetentionApi:
    def __init__(self, clients: Any) -> None:
        service = clients.tables()
        self.clients = clients
        self.ledger = RetentionLedger(tables.table(service, tables.RETENTION))
        self.inventory = Inventory(tables.table(service, tables.INVENTORY))

    def list(self, query: ListQuery, *, now: datetime) -> dict[str, Any]:
        before = now + timedelta(days=query.expiring_within_days) if query.expiring_within_days is not None else None
        if query.scanning:
            return self._scan(query, before, now)
        page = self.ledger.query(subscription_id=query.subscription_id, state=query.state, purge_before=before,
                                 top=query.top, continuation_token=query.continuation_token)
        body: dict[str, Any] = {"value": [row_json(r, now) for r in page.rows]}
        if page.continuation_token:
            body["continuationToken"] = page.continuation_token
        return body

    def _scan(self, query: ListQuery, before: datetime | None, now: datetime) -> dict[str, Any]:
        rows = []
        for row in self.ledger.iter_rows(subscription_id=query.subscription_id, state=query.state,
                                         purge_before=before):
            if query.name is None or row.workspace_name == query.name.lower():
                rows.append(row)
            if len(rows) > MAX_SCAN:
                raise bad_request("orderby", f"more than {MAX_SCAN} rows match: narrow the query with subscriptionId, "
                                             "state or expiringWithinDays")
        rows.sort(key=lambda r: (r.purge_after, r.key), reverse=query.order == "desc")
        start = int(query.continuation_token[2:]) if query.continuation_token else 0
        body: dict[str, Any] = {"value": [row_json(r, now) for r in rows[start:start + query.top]]}
        if start + query.top < len(rows):
            body["continuationToken"] = f"o.{start + query.top}"
        return body

    def get(self, subscription_id: str, resource_group: str, workspace_name: str, *, now: datetime) -> dict[str, Any]:
        check_route(subscription_id, resource_group, workspace_name)
        row = self.ledger.get(subscription_id, resource_group, workspace_name)
        if row is None:
            raise ApiError(404, "NotFound", f"the ledger has no row for workspace {workspace_name!r} in resource group "
                                            f"{resource_group!r} of subscription {subscription_id}: it was never "
                                            "seen soft-deleted", "workspaceName")
        row, check = settle_from_arm(self.clients, self.ledger, self.inventory, row, now)
        body = row_json(row, now)
        known = self.inventory.get(subscription_id, resource_group, workspace_name)
        body["inventory"] = inventory_json(known)
        body["armCheck"] = check
        if row.state is LedgerState.SOFT_DELETED:
            body["recovery"] = add_kind(recovery_report(self.clients, row, known, now=now), self.clients, self.ledger,
                                        self.inventory, row, known, now=now)
        return body


def check_route(subscription_id: str, resource_group: str, workspace_name: str) -> None:
    if not is_guid(subscription_id):
        raise bad_request("subscriptionId", f"must be a subscription GUID, got {subscription_id!r}")
    try:
        ResourceGroupId(subscription_id, resource_group)
    except ArmIdError as exc:
        raise bad_request("resourceGroup", str(exc)) from None
    try:
        check_workspace_name(workspace_name)
    except ArmIdError as exc:
        raise bad_request("workspaceName", str(exc)) from None


_check_route = check_route  # the name other modules imported before
