"""Soft-delete retention: workspace events in, the ledger (pure rules apart from its store), schedule, sweep,
alerts, inventory, recoverability and the retention API's service side."""

from shared.retention.api import ListQuery, RetentionApi
from shared.retention.backfill import BackfillRequest, run_backfill
from shared.retention.ingest import RetentionEvents
from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
from shared.retention.sweep import RetentionSweep

__all__ = [
    "BackfillRequest",
    "LedgerRow",
    "LedgerState",
    "ListQuery",
    "RetentionApi",
    "RetentionEvents",
    "RetentionLedger",
    "RetentionSweep",
    "run_backfill",
]
