"""The ledger's read API other features use: get, query pages, ETag-guarded updates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.retention.ledger import InvalidContinuationToken, LedgerRow, LedgerState, ledger_key
from tests.conftest import SUB_DEV, SUB_PROD, ws_id

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def row(name: str, sub: str = SUB_DEV, state: LedgerState = LedgerState.SOFT_DELETED, days: int = 14) -> LedgerRow:
    return LedgerRow(
        subscription_id=sub, resource_group="rg-ml-dev", workspace_name=name, workspace_id=ws_id(name, sub),
        state=state, deleted_at=T0, purge_after=T0 + timedelta(days=days), retention_days=days,
        deleted_by="alice@contoso.com", last_event_time=T0, last_event_id=f"evt-{name}",
    )


def put(ledger, new: LedgerRow) -> LedgerRow:
    stored, wrote = ledger.update(*new.key, lambda current: new)
    assert wrote
    return stored


def test_get_returns_typed_row_case_insensitively(ledger):
    put(ledger, row("ws-quiet"))
    found = ledger.get(SUB_DEV.upper(), "RG-ML-DEV", "WS-Quiet")
    assert found is not None
    assert found.state is LedgerState.SOFT_DELETED
    assert found.purge_after == T0 + timedelta(days=14)
    assert found.workspace_id == ws_id("ws-quiet")
    assert found.key == ledger_key(SUB_DEV, "rg-ml-dev", "ws-quiet")
    assert ledger.get(SUB_DEV, "rg-ml-dev", "never-deleted") is None


def test_update_with_stale_etag_is_retried_not_lost(ledger):
    first = put(ledger, row("ws-a"))
    calls = []

    def change(current):
        calls.append(current)
        if len(calls) == 1:  # someone else writes between our read and our write
            ledger.update(*first.key, lambda c: c.with_alert("7"))
        return current.with_alert("3")

    stored, wrote = ledger.update(*first.key, change)
    assert wrote and len(calls) == 2
    assert set(ledger.get(SUB_DEV, "rg-ml-dev", "ws-a").alerts_sent) == {"7", "3"}


def test_query_pages_with_opaque_token_and_filters(ledger):
    for i in range(5):
        put(ledger, row(f"ws-{i}"))
    put(ledger, row("ws-prod", sub=SUB_PROD))
    put(ledger, row("ws-gone", state=LedgerState.EXPIRED))

    seen, token = [], None
    while True:
        page = ledger.query(subscription_id=SUB_DEV, state=LedgerState.SOFT_DELETED, top=2, continuation_token=token)
        assert len(page.rows) <= 2
        seen += [r.workspace_name for r in page.rows]
        token = page.continuation_token
        if not token:
            break
    assert sorted(seen) == [f"ws-{i}" for i in range(5)]
    with pytest.raises(InvalidContinuationToken):
        ledger.query(continuation_token="not-a-token")
