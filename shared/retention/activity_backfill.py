"""The backfill's Activity Log pass: learn each workspace delete of the retention window that the ledger missed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from shared.azure.activity_log import ML_PROVIDER, read_activity_log
from shared.retention.activity import deletes_in
from shared.retention.ingest import RetentionEvents

log = logging.getLogger("aml_lifecycle.inventory")

LONGEST_RETENTION = timedelta(days=14)  # softDeleteRetentionInDays is 1-14 (concept-soft-delete; default 14)
MARGIN = timedelta(hours=1)


def window(now: datetime) -> tuple[datetime, datetime]:
    """The window every read covers: the longest retention a workspace can have, plus a margin."""
    return now - LONGEST_RETENTION - MARGIN, now


def learn_deletes(clients: Any, subscription_id: str, *, now: datetime, events: RetentionEvents) -> dict[str, Any]:
    """Read the subscription's Azure ML operations over `window(now)` and apply each successful workspace delete
    through the ledger rules (a delete the ledger already holds, from its event or an earlier backfill, changes
    nothing). Result: `{"read": ActivityLogRead.describe(), "deletes": n, "learned": n}`; a storage failure raises.
    """
    start, end = window(now)
    read = read_activity_log(clients.arm_pipeline(), subscription_id, start, end, resource_provider=ML_PROVIDER)
    deletes = deletes_in(read.entries)
    learned = 0
    for event in deletes:
        result = events.apply_delete(event, now=now)
        if result.status == "applied":
            learned += 1
            log.info("backfill: learned the delete of %s at %s from the Activity Log", event.workspace_id,
                     event.event_time.isoformat())
    return {"read": read.describe(), "deletes": len(deletes), "learned": learned}
