"""At-least-once, out-of-order and concurrent delivery: the ledger ends where one in-order delivery leaves it."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from tests.conftest import SUB_DEV, SUB_PROD
from tests.retention.conftest import delivered, event_body, ledger_rows

# Recent enough that ws-c's second episode and ws-e are still in their window now (a delete whose window had closed on
# arrival is recorded Expired): the history spans 16 days, so it starts 13 days ago and ends in 3 days.
NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=13)
# Everything but the alert bookkeeping: whether the soft-delete alert of an episode that a later event had already
# closed went out depends on arrival order, by design (nobody needs to hear of a deletion already undone).
COMPARED = ("WorkspaceId", "State", "DeletedAt", "PurgeAfter", "RetentionDays", "DeletedBy", "CorrelationId",
            "LastEventTime", "LastEventId", "CmkEnabled", "ManagedResourceGroup")


def history() -> list[dict]:
    """Deletes, recoveries, a purge, name re-use after expiry, and a workspace that was only ever written."""
    t = lambda hours: NOW + timedelta(hours=hours)  # noqa: E731
    events = [
        ("delete", "ws-a", t(0), {}), ("write", "ws-a", t(1), {}), ("delete", "ws-a", t(2), {"upn": "bob@contoso.com"}),
        ("write", "ws-a", t(3), {}),
        ("delete", "ws-b", t(0), {}), ("delete", "ws-b", t(5), {"purge": True}),
        ("delete", "ws-c", t(0), {}), ("write", "ws-c", t(24 * 15), {}), ("delete", "ws-c", t(24 * 16), {}),
        ("write", "ws-d", t(1), {}), ("write", "ws-d", t(2), {}),
        ("delete", "ws-e", t(4), {"sub": SUB_PROD, "rg": "rg-ml-prod", "schema": "cloudevents"}),
    ]
    return [event_body(kind, name, at=at, event_id=f"{name}-{kind}-{i}", correlation=f"c{i}", **extra)
            for i, (kind, name, at, extra) in enumerate(events)]


def snapshot(connection_string: str) -> dict:
    return {key: {p: row.get(p) for p in COMPARED} for key, row in ledger_rows(connection_string).items()}


def deliver_all(functions, bodies) -> None:
    handler = functions["workspace_events"].get_user_function()
    for body in bodies:
        handler(delivered(body))


def reset_tables(connection_string: str) -> None:
    from tests.conftest import _clear_tables

    _clear_tables(connection_string)


def test_three_shuffled_deliveries_equal_one_in_order_delivery(functions, events_env):
    connection = events_env["AML_LIFECYCLE_TABLES"]
    deliver_all(functions, history())
    expected = snapshot(connection)
    assert {k[1]: v["State"] for k, v in expected.items()} == {
        "rg-ml-dev|ws-a": "Recovered", "rg-ml-dev|ws-b": "PermanentlyDeleted", "rg-ml-dev|ws-c": "SoftDeleted",
        "rg-ml-prod|ws-e": "SoftDeleted"}  # ws-d was never deleted: no row
    for seed in range(3):
        reset_tables(connection)
        shuffled = history() * 3
        random.Random(seed).shuffle(shuffled)
        deliver_all(functions, shuffled)
        assert snapshot(connection) == expected, f"seed {seed}"


def test_parallel_handlers_on_one_row_lose_no_update(functions, events_env):
    connection = events_env["AML_LIFECYCLE_TABLES"]
    ws_a = [b for b in history() if "/ws-a" in b["subject"]]
    deliver_all(functions, ws_a)
    expected = snapshot(connection)
    reset_tables(connection)

    handler = functions["workspace_events"].get_user_function()
    start = threading.Barrier(8)

    def worker(seed: int) -> None:
        bodies = ws_a * 2
        random.Random(seed).shuffle(bodies)
        start.wait()
        for body in bodies:
            handler(delivered(body))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    assert snapshot(connection) == expected


def test_concurrent_markers_on_one_row_are_all_kept(ledger):
    from shared.retention.ledger import LedgerRow, LedgerState

    first = LedgerRow(SUB_DEV, "rg-ml-dev", "ws-a", "/x", LedgerState.SOFT_DELETED, NOW, NOW + timedelta(days=14), 14)
    ledger.update(*first.key, lambda current: first)
    tokens = [str(i) for i in range(16)]
    start = threading.Barrier(len(tokens))

    def mark(token: str) -> None:
        start.wait()
        ledger.update(*first.key, lambda current: current.with_alert(token))

    with ThreadPoolExecutor(len(tokens)) as pool:
        list(pool.map(mark, tokens))
    assert sorted(ledger.get(SUB_DEV, "rg-ml-dev", "ws-a").alerts_sent, key=int) == tokens
