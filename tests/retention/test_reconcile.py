"""The sweep reconciles the ledger with ARM: each simulator variant of recover / purge / re-use converges in one sweep."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from shared.retention.ledger import LedgerState
from tests.conftest import SUB_DEV, call_http, ws_id
from tests.retention.conftest import delivered, event_body, soft_delete, sweep, topic_events, wait_for

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 3, 2, 10, 20, tzinfo=timezone.utc)


def ledger_get(name: str):
    from shared.azure import tables
    from shared.azure.clients import get_clients
    from shared.retention.ledger import RetentionLedger

    return RetentionLedger(tables.table(get_clients().tables(), tables.RETENTION)).get(SUB_DEV, "rg-ml-dev", name)


def api_row(functions, name: str) -> dict:
    route = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": name}
    response = call_http(functions, "retention_get", route_params=route)
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def alert_types(sim, name: str) -> list[str]:
    return [e["type"].rsplit(".", 1)[1] for e in topic_events(sim) if e["subject"].lower() == ws_id(name).lower()]


def run_timer(functions) -> None:
    """The real timer entry point (the clock is the wall clock)."""
    functions["retention_sweep"].get_user_function()(SimpleNamespace(past_due=False))


def deleted_through_arm(sim, functions, webhook, name: str):
    """Backfill the inventory (internal ids), subscribe the webhook, DELETE through the SDK; the row as recorded."""
    from tests.retention.conftest import arm_soft_delete

    assert call_http(functions, "inventory_backfill", method="POST", body={"subscriptionIds": [SUB_DEV]}).status_code == 200
    sim.control("DELETE", "eventgrid/deliveries")  # forget what earlier tests emitted
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook.url})
    arm_soft_delete(name)
    return wait_for(lambda: (r := ledger_get(name)) and r.state is LedgerState.SOFT_DELETED and r, what="the row")


@pytest.mark.parametrize("emit", ["write", "action", "none"])
def test_a_recovery_converges_to_recovered_within_one_sweep_whatever_it_emits(topic_env, sim, functions, webhook, emit):
    row = deleted_through_arm(sim, functions, webhook, "ws-quiet")
    wait_for(lambda: alert_types(sim, "ws-quiet") == ["SoftDeleted"], what="the soft-delete alert")
    sim.control("POST", "workspaces/recover", json={"id": ws_id("ws-quiet"), "emit": emit})
    if emit == "write":
        wait_for(lambda: len(webhook.received) >= 2, what="the write event")
    run_timer(functions)

    body = api_row(functions, "ws-quiet")
    assert body["state"] == "Recovered"
    if emit != "write":  # the event-less variants: the sweep's GET found it
        assert body["reason"] == "found live in ARM" and body["source"] == "reconcile"
        assert body["armSaid"].startswith("200 OK: live, same internal workspace id")
        assert body["lastReconciledAt"]
    for later in (row.purge_after - 7 * DAY + MINUTE, row.purge_after - DAY + MINUTE, row.purge_after + MINUTE):
        sweep(later)
    assert alert_types(sim, "ws-quiet") == ["SoftDeleted"], "no expiring/expired alert for a live workspace"
    assert ledger_get("ws-quiet").state is LedgerState.RECOVERED


@pytest.mark.parametrize("emit", ["write", "delete", "action", "none"])
def test_a_name_re_used_after_a_purge_closes_the_old_episode_within_one_sweep(topic_env, sim, functions, webhook, emit):
    from azure.mgmt.resource.resources.models import GenericResource

    from shared.azure.clients import get_clients

    deleted_through_arm(sim, functions, webhook, "ws-quiet")
    sim.control("POST", "workspaces/purge", json={"id": ws_id("ws-quiet"), "emit": emit})
    get_clients().resources(SUB_DEV).resources.begin_create_or_update_by_id(
        ws_id("ws-quiet"), api_version="2025-09-01", parameters=GenericResource(location="westeurope"),
        polling_interval=0.05).result()  # a new workspace under the freed name: its write event arrives too
    wait_for(lambda: len(webhook.received) >= len(sim.control("GET", "eventgrid/events").json()),
             what="every event delivered")
    applied = [e["id"] for e in webhook.received if not e["eventType"].endswith("ActionSuccess")]
    wait_for(lambda: {h.event_id for h in ledger_get("ws-quiet").history} >= set(applied), what="every event applied")
    run_timer(functions)

    body = api_row(functions, "ws-quiet")
    assert body["state"] == "PermanentlyDeleted"
    if emit != "delete":  # a delete event with forceToPurge closes it at once; otherwise the sweep's GET does
        assert body["reason"].startswith("name reused")
        assert "another internal workspace id" in body["armSaid"]
    run_timer(functions)
    assert ledger_get("ws-quiet").state is LedgerState.PERMANENTLY_DELETED, "a second sweep changes nothing"


def test_a_silent_purge_leaves_the_row_soft_deleted_because_arm_answers_404_either_way(topic_env, sim, functions,
                                                                                       webhook):
    deleted_through_arm(sim, functions, webhook, "ws-quiet")
    sim.control("POST", "workspaces/purge", json={"id": ws_id("ws-quiet"), "emit": "none"})
    run_timer(functions)
    body = api_row(functions, "ws-quiet")
    assert body["state"] == "SoftDeleted" and body["lastReconciledAt"]
    assert body["armSaid"].startswith("404 Not Found") and "purged workspace the same way" in body["armSaid"]


def test_live_with_no_recorded_internal_id_is_closed_saying_recovery_and_reuse_cannot_be_told_apart(topic_env, sim):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    now = datetime.now(timezone.utc)  # only the event: no inventory, and the workspace is live in ARM
    RetentionEvents(get_clients(), get_settings()).handle(delivered(event_body("delete", "ws-online", at=now)), now=now)
    report = sweep(now + MINUTE)
    row = ledger_get("ws-online")
    assert row.state is LedgerState.RECOVERED and "cannot be told from a new workspace" in row.reason
    assert report.reconcile.reads == 1 and report.reconcile.recovered == 1
    assert "ExpiringSoon" not in alert_types(sim, "ws-online")


def test_every_soft_deleted_row_is_checked_at_least_once_a_day_even_with_no_alert_due(topic_env, sim):
    soft_delete("ws-quiet", T0)
    first = sweep(T0 + MINUTE)  # the soft-delete entry is due: the row is checked and filed for its daily check
    assert first.reconcile.due_rows == 1 and ledger_get("ws-quiet").state is LedgerState.SOFT_DELETED
    sim.control("POST", "workspaces/recover", json={"id": ws_id("ws-quiet"), "emit": "none"})
    quiet = [sweep(T0 + hours * timedelta(hours=1) + 2 * MINUTE) for hours in range(1, 26)]  # hourly, a day long
    assert sum(r.reconcile.daily_rows for r in quiet) == 1, "one daily check, in the row's own hour"
    assert ledger_get("ws-quiet").state is LedgerState.RECOVERED
    assert sum(r.reconcile.reads for r in quiet) == 1


def test_a_failed_read_changes_nothing_and_the_due_alert_goes_out_marked_unconfirmed(topic_env, sim, monkeypatch):
    from shared.retention import arm_probe

    monkeypatch.setattr(arm_probe, "BACKOFF", 0.01)  # three 500s in a row, retried without the real backoff
    soft_delete("ws-quiet", T0)
    sweep(T0 + MINUTE)
    sim.control("POST", "faults", json={"path": "workspaces/ws-quiet$", "kind": "error", "status": 500, "count": 50})
    report = sweep(T0 + 7 * DAY + MINUTE)
    assert report.reconcile.failed == 1 and ledger_get("ws-quiet").state is LedgerState.SOFT_DELETED
    [alert] = [e for e in topic_events(sim) if e["type"].endswith("ExpiringSoon")]
    assert alert["data"]["armCheck"]["status"] == "unconfirmed" and "could not confirm" in alert["data"]["armCheck"]["message"]
    sim.control("DELETE", "faults")
    assert sweep(T0 + 7 * DAY + 61 * MINUTE).reconcile.still_deleted == 1, "retried at the next sweep"


def test_throttling_is_honoured_within_the_cap_and_a_longer_retry_after_gives_up_for_this_sweep(topic_env, sim):
    soft_delete("ws-quiet", T0)
    sim.control("POST", "faults", json={"path": "workspaces/ws-quiet$", "kind": "throttle", "retryAfter": 0,
                                        "count": 2})
    assert sweep(T0 + MINUTE).reconcile.still_deleted == 1  # two 429s, then the answer
    sim.control("POST", "faults", json={"path": "workspaces/ws-quiet$", "kind": "throttle", "retryAfter": 3600,
                                        "count": 1})
    started = time.monotonic()
    report = sweep(T0 + 7 * DAY + MINUTE)
    assert report.reconcile.failed == 1 and time.monotonic() - started < 600, "never waits an hour"
    [alert] = [e for e in topic_events(sim) if e["type"].endswith("ExpiringSoon")]
    assert "over the 10s cap" in alert["data"]["armCheck"]["detail"]


def test_reads_run_concurrently_within_the_limit(table_service):
    from shared.azure import tables
    from shared.retention.arm_probe import ProbeResult
    from shared.retention.inventory import Inventory
    from shared.retention.ledger import LedgerRow, RetentionLedger
    from shared.retention.reconcile import Reconciler
    from shared.retention.reconcile_index import ReconcileIndex

    ledger = RetentionLedger(tables.table(table_service, tables.RETENTION))
    keys = []
    for i in range(12):
        row = LedgerRow(SUB_DEV, "rg", f"ws-{i:02d}", ws_id(f"ws-{i:02d}", rg="rg"), LedgerState.SOFT_DELETED, T0,
                        T0 + 14 * DAY, 14)
        ledger.update(*row.key, lambda _c, row=row: row)
        keys.append(row.key)
    lock, state = threading.Lock(), {"now": 0, "max": 0}
    both_running = threading.Barrier(3, timeout=10)

    def probe(_workspace_id: str) -> ProbeResult:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        try:
            both_running.wait()  # three at once: proof they overlap
        except threading.BrokenBarrierError:
            pass
        with lock:
            state["now"] -= 1
        return ProbeResult("absent", detail="404 Not Found")

    reconciler = Reconciler(ledger, Inventory(tables.table(table_service, tables.INVENTORY)),
                            ReconcileIndex(tables.table(table_service, tables.RECONCILE)), probe, concurrency=3,
                            max_reads=9)
    report = reconciler.run(keys, T0 + MINUTE)
    assert report.reads == 9, "bounded by max_reads"
    assert state["max"] == 3, "three reads in flight, never more"


def settle(row, state, at):
    """The row as the sweep's reconciliation writes it when ARM says `state` (its `change`, run on `row`)."""
    from shared.retention.arm_probe import ProbeResult
    from shared.retention.reconcile import Reconciler

    class One:  # the ledger the reconciler writes through: captures what its change returns
        def update(self, pk, rk, change, known=None):
            self.row = change(row)
            return self.row, True

    class Nothing:
        def get(self, *_a):
            return None

        def drop(self, *_a):
            pass

        def file(self, key, at, previous=None):
            return SimpleNamespace(bucket="x")

    ledger = One()
    live = {LedgerState.PERMANENTLY_DELETED: "another-id", LedgerState.RECOVERED: "same-id"}[state]
    reconciler = Reconciler(ledger, Nothing(), Nothing(), lambda _w: ProbeResult("live", live))
    from shared.retention.reconcile import ReconcileReport, _Locked

    reconciler._apply(row.key, replace(row, internal_id="same-id"), [], ProbeResult("live", live), at,
                      _Locked(ReconcileReport(), threading.Lock()))
    assert ledger.row.state is state
    return ledger.row


def test_a_late_event_of_the_same_episode_does_not_reopen_a_row_the_sweep_settled_from_arm():
    from shared.retention.history import HistoryEntry
    from shared.retention.rules import apply_event, write_entry

    workspace = ws_id("ws-quiet")
    deleted = apply_event(None, None, retention_days=14,
                          writes=[HistoryEntry("d1", "delete", T0, False, "a@contoso.com", None, workspace, 14)])
    settled = settle(deleted, LedgerState.PERMANENTLY_DELETED, T0 + MINUTE)
    assert apply_event(settled, None, retention_days=14, writes=[write_entry("old", T0 + MINUTE / 2)]) is None, \
        "an event older than ARM's answer is stale"
    later = apply_event(settled, None, retention_days=14, writes=[write_entry("w1", T0 + 2 * MINUTE)])
    assert later.state is LedgerState.PERMANENTLY_DELETED and later.reason.startswith("name reused")
    again = apply_event(settled, None, retention_days=14,
                        writes=[HistoryEntry("d2", "delete", T0 + DAY, False, None, None, workspace, 14)])
    assert again.state is LedgerState.SOFT_DELETED and again.reason is None, "a later delete is a new episode"
