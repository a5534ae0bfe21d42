"""Replaying dead-lettered events (docs/operations.md): the blob's events, as Event Grid wrote them, apply once."""

from __future__ import annotations

import logging

from shared.logs import of_record
from tests.conftest import SUB_DEV, ws_id

# Properties Event Grid adds to each dead-lettered event (learn.microsoft.com/azure/event-grid/manage-event-delivery).
DEAD_LETTER_FIELDS = {"deadLetterReason": "MaxDeliveryAttemptsExceeded", "deliveryAttempts": 30,
                      "lastDeliveryOutcome": "GenericError", "lastHttpStatusCode": 500,
                      "publishTime": "2025-03-01T12:00:01.0000000Z", "lastDeliveryAttemptTime": "2025-03-02T12:00:00Z"}



def test_a_dead_lettered_event_replayed_twice_is_applied_once(functions, app_env, sim, caplog, monkeypatch):
    from shared.azure import tables
    from shared.azure.clients import get_clients
    from shared.retention.ledger import LedgerState, RetentionLedger
    from tests.retention.conftest import delivered, event_body, recent

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle)  # the alerts topic client trusts the simulator's CA
    caplog.set_level(logging.INFO)
    dead_letter = {**event_body("delete", "ws-replayed", at=recent(), event_id="evt-dead-1"), **DEAD_LETTER_FIELDS}
    handler = functions["workspace_events"].get_user_function()
    handler(delivered(dead_letter))
    handler(delivered(dead_letter))  # the same blob replayed again

    [transition] = [of_record(r) for r in caplog.records if getattr(r, "kind", None) == "ledger.transition"]
    assert transition["eventId"] == "evt-dead-1" and transition["state"] == "SoftDeleted"
    ledger = RetentionLedger(tables.table(get_clients().tables(), tables.RETENTION))
    row = ledger.get_by_key(SUB_DEV.lower(), "rg-ml-dev|ws-replayed")
    assert row.state is LedgerState.SOFT_DELETED and row.workspace_id.lower() == ws_id("ws-replayed").lower()
