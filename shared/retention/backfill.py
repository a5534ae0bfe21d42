"""Backfill of the workspace inventory from the workspaces that exist (`POST /api/inventory/backfill`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import logs
from shared.azure import tables
from shared.azure.arm_ids import ArmIdError, is_guid
from shared.azure.ml_gateway import MlGateway
from shared.errors import bad_request, describe_azure_error
from shared.retention.activity_backfill import learn_deletes
from shared.retention.ingest import RetentionEvents
from shared.retention.inventory import Inventory
from shared.retention.watched import resolve_watched, watch_mode
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.inventory")
MAX_SUBSCRIPTIONS = 100


@dataclass(frozen=True)
class BackfillRequest:
    subscription_ids: tuple[str, ...]
    discover: bool = False  # `*` or a management group: the ids are resolved through ARM when the backfill runs

    @classmethod
    def from_json(cls, body: dict[str, Any], settings: Settings) -> "BackfillRequest":
        """`{"subscriptionIds"?: [...]}`, defaulting to AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS; 400 naming a bad field."""
        unknown = sorted(set(body) - {"subscriptionIds"})
        if unknown:
            raise bad_request(unknown[0], "unknown field; only subscriptionIds is accepted")
        ids = body.get("subscriptionIds")
        if ids is None and watch_mode(settings) != "listed":
            return cls((), discover=True)
        if ids is None:
            ids = list(settings.watched_subscriptions)
            if not ids:
                raise bad_request("subscriptionIds", "none given and AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS is empty")
        if not isinstance(ids, list) or not ids or len(ids) > MAX_SUBSCRIPTIONS:
            raise bad_request("subscriptionIds",
                              f"must be a non-empty list of at most {MAX_SUBSCRIPTIONS} subscription ids")
        for index, value in enumerate(ids):
            if not isinstance(value, str) or not is_guid(value):
                raise bad_request(f"subscriptionIds[{index}]", f"must be a subscription GUID, got {value!r}")
        return cls(tuple(dict.fromkeys(v.lower() for v in ids)))


def run_backfill(clients: Any, request: BackfillRequest, *, now: datetime,
                 settings: Settings | None = None) -> dict[str, Any]:
    """Record every workspace of each subscription, and learn from its Activity Log every workspace delete of the last
    14 days the ledger missed (activity_backfill.py); one subscription's ARM failure does not stop the others.

    A discovering request first resolves the watched subscriptions (shared.retention.watched); if ARM refuses that
    list the answer says so in `discovery.error` and covers no subscription. Result: per-subscription counts and
    errors, totals, and for a discovering request `discovery` (`{"mode", "managementGroup"?, "subscriptions"?, "error"?}`).
    """
    inventory = Inventory(tables.table(clients.tables(), tables.INVENTORY))
    gateway = MlGateway(clients.arm_pipeline())
    results = []
    subscription_ids, discovery = request.subscription_ids, None
    if request.discover:
        settings = settings or clients.settings
        discovery = {"mode": watch_mode(settings)}
        try:
            watched = resolve_watched(clients, settings)
            subscription_ids = watched.ids
            discovery.update(watched.describe(), subscriptions=len(subscription_ids))
        except Exception as exc:  # the list itself failed: nothing to cover, say why
            discovery["error"] = describe_azure_error(exc)
            log.warning("backfill: discovering the watched subscriptions failed: %s", discovery["error"])
    events = RetentionEvents(clients, settings or clients.settings)
    for sub in subscription_ids:
        learned = learn_deletes(clients, sub, now=now, events=events)  # Activity Log: deletes the ledger missed
        try:
            workspaces = gateway.list_workspaces(f"/subscriptions/{sub}")
        except Exception as exc:  # ARM said no (404, 403, throttled past retries): report it, go on
            results.append({"subscriptionId": sub, "workspaces": 0, "recorded": 0, "error": describe_azure_error(exc),
                            "activityLog": learned})
            continue
        recorded = 0
        for workspace in workspaces:
            try:
                inventory.record_workspace(workspace, now=now)  # a storage failure raises: nothing is half-reported
                recorded += 1
            except ArmIdError as exc:
                log.warning("backfill: skipping %s: %s", workspace.id, exc, extra=logs.fields(workspace_id=workspace.id))
        results.append({"subscriptionId": sub, "workspaces": len(workspaces), "recorded": recorded,
                        "activityLog": learned})
    out = {
        "subscriptions": results,
        "workspaces": sum(r["workspaces"] for r in results),
        "recorded": sum(r["recorded"] for r in results),
        "failedSubscriptions": sum(1 for r in results if "error" in r),
        "deletesLearned": sum(r["activityLog"]["learned"] for r in results),
        "activityLogIncomplete": sum(1 for r in results if not r["activityLog"]["read"]["complete"]),
    }
    if discovery is not None:
        out["discovery"] = discovery
    return out
