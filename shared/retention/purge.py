"""Purge on request (`POST /api/retention/{sub}/{rg}/{name}/purge`): allow-list, ARM's raw forceToPurge, audit, evidence."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from shared.azure import tables
from shared.azure.activity_log import read_activity_log
from shared.azure.arm_ids import ResourceGroupId, SubscriptionId
from shared.azure.ml_gateway import API_VERSION
from shared.errors import ApiError, bad_request, describe_azure_error
from shared.retention.activity import deletes_in
from shared.retention.advice import iso_z, route_of
from shared.retention.arm_probe import FAILED, LIVE, WorkspaceProbe
from shared.retention.ingest import RetentionEvents
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
from shared.settings import Settings
from shared.untrusted_input import audit_note, audit_text, reject_unknown

log = logging.getLogger("aml_lifecycle.purge")

SETTING = "AML_LIFECYCLE_PURGE_SCOPES"
_FIELDS = ("confirm", "reason", "requestedBy")


@dataclass(frozen=True)
class PurgeRequest:
    """Why, who asked (the signed-in caller's record, shared.auth.Caller.record), and what the body said of who."""

    reason: str
    requested_by: dict[str, Any]
    note: str | None = None  # the body's `requestedBy`: a label the caller chose, never taken as the requester

    @property
    def label(self) -> str:
        who = self.requested_by
        return str(who.get("name") or who.get("appId") or who.get("objectId") or f"a {who.get('via')} caller")


def parse_purge(body: dict[str, Any], workspace_name: str, caller: dict[str, Any]) -> PurgeRequest:
    """`{"confirm": "<workspace name>", "reason": str, "requestedBy"?: str}` or ApiError(400) naming the field.

    `caller` is the signed-in principal's record (`{"via", "objectId", "name"|"appId"}`); the body's `requestedBy` is
    kept only as a note beside it."""
    reject_unknown(body, _FIELDS)
    confirm = body.get("confirm")
    if not isinstance(confirm, str) or confirm.strip().lower() != workspace_name.lower():
        raise bad_request("confirm", f"must repeat the workspace name {workspace_name!r}: a purge cannot be undone")
    return PurgeRequest(audit_text(body, "reason"), caller, audit_note(body, "requestedBy"))


def check_scope(settings: Settings, subscription_id: str, resource_group: str) -> None:
    """403 naming AML_LIFECYCLE_PURGE_SCOPES unless a subscription or resource group entry covers the workspace."""
    group = ResourceGroupId(subscription_id, resource_group)
    for entry in settings.purge_scopes:
        if (isinstance(entry, SubscriptionId) and entry.contains(group)) or (
                isinstance(entry, ResourceGroupId) and entry == group):
            return
    why = "purge is disabled (the setting is empty)" if not settings.purge_scopes else \
        f"resource group {group.id} is not in it"
    raise ApiError(403, "PurgeNotAllowed", f"{SETTING}: {why}. Ask the platform team to add the subscription or "
                                           "resource group to it, or purge in the portal (Recently deleted).", SETTING)


def purge_record(row: LedgerRow) -> dict[str, Any] | None:
    return json.loads(row.purge) if row.purge else None


def purge_pending(row: LedgerRow) -> bool:
    """Whether ARM accepted a purge of the current episode and no evidence has closed the row yet."""
    record = purge_record(row)
    return bool(record and row.state is LedgerState.SOFT_DELETED and record.get("deletedAt") == iso_z(row.deleted_at)
                and 200 <= int(record.get("armStatus") or 0) < 300)


class RetentionPurge:
    def __init__(self, clients: Any, settings: Settings) -> None:
        self.clients, self.settings = clients, settings
        self.ledger = RetentionLedger(tables.table(clients.tables(), tables.RETENTION))

    def purge(self, subscription_id: str, resource_group: str, name: str, request: PurgeRequest, *,
              now: datetime) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): 200 purged (evidence), 202 requested (ARM accepted, no evidence yet), or ApiError:
        403 scope, 404 no soft-deleted row, 409 live / ARM 404, 502 ARM failed. Every ARM answer is audited."""
        check_scope(self.settings, subscription_id, resource_group)
        row = self.ledger.get(subscription_id, resource_group, name)
        if row is None or row.state is not LedgerState.SOFT_DELETED or now >= row.purge_after:
            state = "has no row" if row is None else f"says {row.state.value}"
            raise ApiError(404, "NotSoftDeleted", f"the ledger {state} for workspace {name!r}: nothing to purge. GET "
                                                  f"/api/names/{subscription_id}/{resource_group}/{name} checks ARM.",
                           "workspaceName")
        probe = WorkspaceProbe(self.clients.arm_pipeline())(row.workspace_id)
        if probe.outcome == LIVE:
            raise ApiError(409, "WorkspaceLive", f"a live workspace holds {row.workspace_id} (internal id "
                                                 f"{probe.internal_id}): this route purges only soft-deleted ones",
                           "workspaceName")
        if probe.outcome == FAILED:
            raise ApiError(502, "ArmUnavailable", f"ARM could not be read ({probe.detail}); nothing was deleted; "
                                                  "try again")
        status, said = self._delete(row.workspace_id)
        record = {"requestedAt": iso_z(now), "requestedBy": request.requested_by, "reason": request.reason,
                  "armStatus": status, "armSaid": said, "deletedAt": iso_z(row.deleted_at)}
        if request.note:
            record["requestedByNote"] = request.note
        log.info("purge of %s requested by %s (%s): ARM answered %s", row.workspace_id, request.label,
                 request.reason, said)
        stored = self._record(row, record)
        if 200 <= status < 300:
            stored = self._evidence(row, now) or stored
        body = {"workspaceId": row.workspace_id, "state": stored.state.value, "purge": record,
                "ledgerUrl": route_of(subscription_id, resource_group, name),
                "nameCheckUrl": f"/api/names/{subscription_id}/{resource_group}/{name}"}
        if stored.state is LedgerState.PERMANENTLY_DELETED:
            return 200, {**body, "outcome": "purged", "evidence": stored.reason or "the Activity Log records the purge"}
        if 200 <= status < 300:
            return 202, {**body, "outcome": "requested", "message": (
                f"ARM answered {said}; that alone does not prove the name is free (a 204 means 'not found'). The row "
                "stays SoftDeleted, and the name check says purgeRequested, until the Activity Log records the purge "
                "or a new workspace takes the name.")}
        code = "PurgeNotFound" if status == 404 else "PurgeFailed"
        raise ApiError(409 if status == 404 else 502, code, f"ARM answered the purge with {said}; the row is unchanged "
                                                            "(audited). Purge it in the portal: Recently deleted.")

    def _delete(self, workspace_id: str) -> tuple[int, str]:
        """Workspaces_Delete with forceToPurge=true, raw (the SDK's delete GETs first and misses a soft-deleted one)."""
        pipeline = self.clients.arm_pipeline()
        request = HttpRequest("DELETE", pipeline.format_url(workspace_id),
                              params={"api-version": API_VERSION, "forceToPurge": "true"})
        try:
            response = pipeline.send_request(request)
        except AzureError as exc:
            return 0, f"no answer: {describe_azure_error(exc)}"
        code = ""
        if response.status_code >= 400:
            try:
                code = str(((response.json() or {}).get("error") or {}).get("code") or "")
            except Exception:  # not JSON
                code = ""
        return response.status_code, f"HTTP {response.status_code} {code}".strip()

    def _record(self, row: LedgerRow, record: dict[str, Any]) -> LedgerRow:
        text = json.dumps(record, separators=(",", ":"))

        def change(current: LedgerRow | None) -> LedgerRow | None:
            return None if current is None else replace(current, purge=text)

        stored, _ = self.ledger.update(*row.key, change)
        return stored or row

    def _evidence(self, row: LedgerRow, now: datetime) -> LedgerRow | None:
        """The Activity Log's record of the purge (a succeeded delete with forceToPurge=true, not a 204), applied
        through the ledger rules: the row becomes PermanentlyDeleted. None when the log does not show it (yet)."""
        read = read_activity_log(self.clients.arm_pipeline(), row.subscription_id, now - timedelta(minutes=10),
                                 now, resource_uri=row.workspace_id)
        events = RetentionEvents(self.clients, self.settings)
        for event in deletes_in(read.entries):
            if event.force_to_purge and event.event_time >= row.deleted_at:
                result = events.apply_delete(event, now=now)
                if result.row is not None and result.row.state is LedgerState.PERMANENTLY_DELETED:
                    return result.row
        return None
