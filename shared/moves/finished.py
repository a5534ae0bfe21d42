"""A move that ended outside its orchestration (a cancel): the same alert and `move.finished` line as `finish`."""

from __future__ import annotations

import logging

from shared import logs
from shared.azure.clients import AzureClients
from shared.moves.links import app_url
from shared.moves.plan import FAILED, SUCCEEDED
from shared.moves.store import MoveRecord, MovesStore

log = logging.getLogger("aml_lifecycle.moves")


def announce(clients: AzureClients, record: MoveRecord) -> MoveRecord:
    """Publish the move's alert (Failed / NeedsAttention, the event id the orchestration would use, so never two)
    unless one went out already, record it on the row, and log `move.finished`. Returns the row as written."""
    from shared.azure import alerts

    store = MovesStore.of(clients)
    result = record.result or {}
    event_type = {SUCCEEDED: alerts.MOVE_SUCCEEDED, FAILED: alerts.MOVE_FAILED}.get(
        record.state, alerts.MOVE_NEEDS_ATTENTION
    )
    event_id = alerts.alert_id("move", record.move_id)
    if record.alert_id is None:
        data = {
            "moveId": record.move_id,
            "state": record.state,
            "workspaceId": record.workspace_id,
            "targetWorkspaceId": result.get("targetWorkspaceId"),
            "statusUrl": app_url(f"/api/moves/{record.move_id}"),
            "leftToDo": list(result.get("leftToDo") or ()),
            "error": record.error,
        }
        try:
            sent = alerts.publish_alert(clients, event_type, record.workspace_id, data, event_id=event_id)
            record = store.update(record.partition, record.move_id, lambda row: _alerted(row, sent, event_type))
        except alerts.AlertPublishError as exc:
            reason = exc.reason  # secret-free; the verdict stands, the row says the alert did not go out
            record = store.update(record.partition, record.move_id,
                                  lambda row: row.put_step("alert", "failed", detail=reason))
    log.info(
        "move %s of %s finished: %s (%d item(s) left to do)",
        record.move_id, record.workspace_id, record.state, len(result.get("leftToDo") or ()),
        extra=logs.fields(kind="move.finished", move_id=record.move_id, workspace_id=record.workspace_id,
                          state=record.state, alert_id=event_id),
    )
    return record


def _alerted(row: MoveRecord, event_id: str, event_type: str) -> None:
    row.alert_id = event_id
    row.put_step("alert", "succeeded", detail=event_type)
