"""The retention sweep with a controlled clock, against Azurite and the simulator's alerts topic."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from shared.retention.ledger import LedgerState
from tests.conftest import SUB_DEV, ws_id
from tests.retention.conftest import delivered, event_body, soft_delete, sweep, topic_events

T0 = datetime(2026, 3, 2, 10, 20, tzinfo=timezone.utc)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def alerts_of(sim, name: str) -> list[tuple[str, object]]:
    """(type, thresholdDays) of every alert about one workspace, in publish order."""
    return [(e["type"].rsplit(".", 1)[1], e["data"].get("thresholdDays"))
            for e in topic_events(sim) if e["subject"] == ws_id(name)]


def ledger_row(name: str):
    from shared.azure import tables
    from shared.azure.clients import get_clients
    from shared.retention.ledger import RetentionLedger

    return RetentionLedger(tables.table(get_clients().tables(), tables.RETENTION)).get(SUB_DEV, "rg-ml-dev", name)


def schedule_size() -> int:
    from shared.azure import tables
    from shared.azure.clients import get_clients

    client = tables.table(get_clients().tables(), tables.SCHEDULE)
    return sum(1 for e in client.list_entities() if not e["PartitionKey"].startswith("~"))


def test_each_threshold_alerts_once_then_the_row_expires(topic_env, sim):
    soft_delete("ws-quiet", T0)
    sweeps = [T0 + 7 * DAY - MINUTE, T0 + 7 * DAY + MINUTE, T0 + 7 * DAY + 2 * MINUTE, T0 + 8 * DAY,
              T0 + 11 * DAY + MINUTE, T0 + 13 * DAY + MINUTE, T0 + 13 * DAY + 30 * MINUTE,
              T0 + 14 * DAY + MINUTE, T0 + 15 * DAY]
    for at in sweeps:
        sweep(at)
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None), ("ExpiringSoon", 7), ("ExpiringSoon", 3),
                                          ("ExpiringSoon", 1), ("Expired", None)]
    row = ledger_row("ws-quiet")
    assert row.state is LedgerState.EXPIRED
    assert set(row.alerts_sent) == {"deleted", "7", "3", "1", "expired"}
    assert schedule_size() == 0  # handled entries are deleted


def test_expiring_soon_says_how_long_is_left_who_deleted_it_and_what_to_do(topic_env, sim):
    soft_delete("ws-quiet", T0, upn="carol@contoso.com")
    sweep(T0 + 11 * DAY + 5 * MINUTE)
    [event] = [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Retention.ExpiringSoon"]
    data = event["data"]
    assert (event["source"], event["subject"], event["specversion"]) == ("/aml-lifecycle", ws_id("ws-quiet"), "1.0")
    # hoursLeft means what it means in GET /api/retention: whole hours until purgeAfter (2 days 23 h)
    assert (data["thresholdDays"], data["daysLeft"], data["hoursLeft"]) == (3, 2, 71)
    assert data["purgeAfter"] == (T0 + 14 * DAY).isoformat().replace("+00:00", "Z") and data["deletedBy"] == "carol@contoso.com"
    assert [o["action"] for o in data["recoveryOptions"]] == ["recover", "purge"]
    assert any("compute" in item for item in data["notRestoredOnRecovery"])


def test_expired_alert_says_the_name_can_be_reused(topic_env, sim):
    soft_delete("ws-quiet", T0)
    sweep(T0 + 14 * DAY + MINUTE)
    [expired] = [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Retention.Expired"]
    assert "name can be reused" in expired["data"]["message"]
    assert ledger_row("ws-quiet").state is LedgerState.EXPIRED


def test_missed_sweeps_send_only_the_most_urgent_pending_alert(topic_env, sim):
    soft_delete("ws-quiet", T0)
    soft_delete("ws-online", T0)
    sweep(T0 + 13 * DAY + 2 * 60 * MINUTE)  # the app was stopped for 13 days
    sweep(T0 + 13 * DAY + 3 * 60 * MINUTE)
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None), ("ExpiringSoon", 1)]
    sweep(T0 + 30 * DAY)  # and again past the purge time
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None), ("ExpiringSoon", 1), ("Expired", None)]
    # stopped through the whole window: only the expiry
    assert alerts_of(sim, "ws-online") == [("SoftDeleted", None), ("ExpiringSoon", 1), ("Expired", None)]


def test_stopped_through_the_whole_window_sends_only_the_expiry(topic_env, sim):
    soft_delete("ws-quiet", T0)
    sweep(T0 + 40 * DAY)
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None), ("Expired", None)]


def test_overlapping_sweeps_send_each_alert_once(topic_env, sim):
    names = ["ws-quiet", "ws-online", "ws-batch", "ws-jobs", "ws-twin"]
    for name in names:
        soft_delete(name, T0)
    for at in (T0 + 7 * DAY + MINUTE, T0 + 11 * DAY + MINUTE, T0 + 14 * DAY + MINUTE):
        start = threading.Barrier(4)

        def run(_: int) -> None:
            start.wait()
            sweep(at)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(run, range(4)))
        sweep(at + 60 * MINUTE)  # whatever a busy sweep left is settled by the next one
    for name in names:
        assert alerts_of(sim, name) == [("SoftDeleted", None), ("ExpiringSoon", 7), ("ExpiringSoon", 3),
                                        ("Expired", None)], name


def test_a_failed_publish_is_not_marked_sent_and_goes_out_next_sweep(topic_env, sim):
    soft_delete("ws-quiet", T0)
    sim.control("POST", "faults", json={"path": "^/_sim/topics/alerts/api/events", "kind": "error", "status": 503,
                                        "count": 50})
    report = sweep(T0 + 7 * DAY + MINUTE)
    assert report.failed == 1 and "7" not in ledger_row("ws-quiet").alerts_sent
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None)]
    sim.control("DELETE", "faults")
    sweep(T0 + 7 * DAY + 61 * MINUTE)
    sweep(T0 + 7 * DAY + 121 * MINUTE)
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None), ("ExpiringSoon", 7)]
    assert "7" in ledger_row("ws-quiet").alerts_sent


def test_a_soft_delete_alert_the_handler_could_not_send_is_sent_by_the_sweep(topic_env, sim):
    import pytest

    from shared.azure.alerts import AlertPublishError

    sim.control("POST", "faults", json={"path": "^/_sim/topics/alerts/api/events", "kind": "error", "status": 503,
                                        "count": 50})
    with pytest.raises(AlertPublishError):  # the invocation fails so Event Grid redelivers ...
        soft_delete("ws-quiet", T0)
    assert ledger_row("ws-quiet").state is LedgerState.SOFT_DELETED  # ... and the ledger update is kept
    sim.control("DELETE", "faults")
    sweep(T0 + 60 * MINUTE)  # no redelivery came: the sweep sends it
    sweep(T0 + 120 * MINUTE)
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None)]


def test_recovered_workspace_gets_no_more_alerts(topic_env, sim):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    soft_delete("ws-quiet", T0)
    write = delivered(event_body("write", "ws-quiet", at=T0 + 2 * DAY))
    RetentionEvents(get_clients(), get_settings()).handle(write, now=T0 + 2 * DAY)
    for days in (8, 12, 14, 15):
        sweep(T0 + days * DAY)
    assert alerts_of(sim, "ws-quiet") == [("SoftDeleted", None)]
    assert ledger_row("ws-quiet").state is LedgerState.RECOVERED
    assert schedule_size() == 0


def test_digest_once_a_day_lists_every_workspace_still_in_its_window(topic_env, sim, monkeypatch):
    from shared.azure.clients import reset_clients

    monkeypatch.setenv("AML_LIFECYCLE_DIGEST_HOUR_UTC", "9")
    reset_clients()
    soft_delete("ws-quiet", T0)
    soft_delete("ws-online", T0 + 5 * DAY)
    day = datetime(2026, 3, 14, tzinfo=timezone.utc)  # ws-quiet purges on the 16th, ws-online on the 21st
    sweep(day.replace(hour=8))
    start = threading.Barrier(3)

    def run(_: int) -> None:
        start.wait()
        sweep(day.replace(hour=9))

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(run, range(3)))
    sweep(day.replace(hour=10))
    sweep(day.replace(hour=9) + DAY + 20 * DAY)  # after both windows closed
    digests = [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Retention.Digest"]
    assert len(digests) == 2
    first, second = digests
    assert [w["workspaceId"] for w in first["data"]["workspaces"]] == [ws_id("ws-quiet"), ws_id("ws-online")]
    assert second["data"]["count"] == 0
