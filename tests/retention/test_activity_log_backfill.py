"""The backfill learns workspace deletes from the simulator's Activity Log (ActivityLogs_List 2015-04-01, paged)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from shared.retention.ledger import LedgerState
from tests.conftest import SUB_DEV, call_http, ws_id
from tests.retention.conftest import arm_soft_delete, delivered, ledger_rows, sweep, topic_events

DAY = 86400


def backfill(functions, sub=SUB_DEV) -> dict:
    response = call_http(functions, "inventory_backfill", method="POST", body={"subscriptionIds": [sub]})
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def row_of(env, name, sub=SUB_DEV, rg="rg-ml-dev") -> dict | None:
    return ledger_rows(env["AML_LIFECYCLE_TABLES"]).get((sub.lower(), f"{rg}|{name}".lower()))


def last_delete_event(sim, name) -> dict:
    """The simulator's ResourceDeleteSuccess event of the workspace's latest delete (what Event Grid delivers)."""
    return [e for e in sim.control("GET", "eventgrid/events").json() if e["subject"].lower() == ws_id(name).lower()
            and e["eventType"] == "Microsoft.Resources.ResourceDeleteSuccess"][-1]


def alerts_for(sim, name) -> list[dict]:
    return [e for e in topic_events(sim) if e["subject"].lower() == ws_id(name).lower()]


def test_a_delete_three_days_before_deployment_is_learned_with_its_caller_and_gets_its_alerts(topic_env, sim,
                                                                                              functions):
    arm_soft_delete("ws-quiet")
    sim.control("POST", "activity-log/shift", json={"seconds": -3 * DAY})
    sim.control("PUT", "page-sizes", json={"activityLog": 1})  # every entry its own page: nextLink is followed
    result = backfill(functions)
    [dev] = result["subscriptions"]
    assert dev["activityLog"]["read"]["complete"] and dev["activityLog"]["read"]["pages"] >= 3
    assert dev["activityLog"]["learned"] == 1 and result["deletesLearned"] == 1
    row = row_of(topic_env, "ws-quiet")
    assert row["State"] == "SoftDeleted" and row["Source"] == "activityLog"
    assert row["DeletedBy"] == "platform.engineer@contoso.example"
    now = datetime.now(timezone.utc)
    deleted = row["DeletedAt"].astimezone(timezone.utc)
    assert timedelta(days=3) - timedelta(minutes=5) < now - deleted < timedelta(days=3, minutes=5)
    assert row["PurgeAfter"] == row["DeletedAt"] + timedelta(days=14)
    sent = alerts_for(sim, "ws-quiet")
    assert [e["type"] for e in sent] == ["AmlLifecycle.Workspace.SoftDeleted"]
    assert sent[0]["data"]["source"] == "activityLog"
    # The ExpiringSoon alerts it is owed, each at its threshold (7, 3, 1 days left).
    purge_after = row["PurgeAfter"].astimezone(timezone.utc)
    for days in (7, 3, 1):
        sweep(purge_after - timedelta(days=days) + timedelta(minutes=1))
    expiring = [e["data"]["thresholdDays"] for e in alerts_for(sim, "ws-quiet")
                if e["type"] == "AmlLifecycle.Retention.ExpiringSoon"]
    assert expiring == [7, 3, 1]


def test_the_same_delete_arriving_later_as_an_event_changes_nothing_and_sends_nothing(topic_env, sim, functions):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    arm_soft_delete("ws-quiet")
    backfill(functions)
    before = row_of(topic_env, "ws-quiet")
    alerts = len(topic_events(sim))
    event = last_delete_event(sim, "ws-quiet")
    result = RetentionEvents(get_clients(), get_settings()).handle(delivered(event))
    assert result.status == "unchanged"
    after = row_of(topic_env, "ws-quiet")
    assert after.metadata["etag"] == before.metadata["etag"] and len(topic_events(sim)) == alerts
    assert backfill(functions)["deletesLearned"] == 0 and len(topic_events(sim)) == alerts


def test_an_event_first_then_the_backfill_is_one_deletion(topic_env, sim, functions):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    arm_soft_delete("ws-quiet")
    event = last_delete_event(sim, "ws-quiet")
    assert RetentionEvents(get_clients(), get_settings()).handle(delivered(event)).status == "applied"
    alerts = len(topic_events(sim))
    assert backfill(functions)["deletesLearned"] == 0
    assert len(topic_events(sim)) == alerts and row_of(topic_env, "ws-quiet")["Source"] == "event"


def test_a_purge_in_the_activity_log_closes_the_row(topic_env, sim, functions):
    arm_soft_delete("ws-quiet")
    backfill(functions)
    sim.control("POST", "workspaces/purge", json={"id": ws_id("ws-quiet")})  # the portal's purge: no event
    assert backfill(functions)["deletesLearned"] == 1
    row = row_of(topic_env, "ws-quiet")
    assert row["State"] == LedgerState.PERMANENTLY_DELETED.value and row["Source"] == "activityLog"


def test_a_failed_activity_log_read_is_reported_and_the_inventory_still_runs(topic_env, sim, functions):
    sim.control("POST", "faults", json={"path": "eventtypes/management/values", "kind": "error", "status": 403,
                                        "count": 5})
    [dev] = backfill(functions)["subscriptions"]
    read = dev["activityLog"]["read"]
    assert read["complete"] is False and "403" in read["error"] and dev["recorded"] > 0
