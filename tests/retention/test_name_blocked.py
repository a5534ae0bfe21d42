"""A create refused on a held name: the simulator's ResourceWriteFailure gives one NameBlocked alert per operation."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.conftest import SUB_DEV, ws_id
from tests.retention.conftest import delivered, recent, soft_delete, topic_events


def create(name: str, rg: str = "rg-ml-dev") -> None:
    from shared.azure.clients import get_clients

    workspace = f"/subscriptions/{SUB_DEV}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}"
    with pytest.raises(HttpResponseError):
        get_clients().resources(SUB_DEV).resources.begin_create_or_update_by_id(
            workspace, api_version="2025-09-01", parameters={"location": "westeurope"}, polling_interval=0.05).result()


def failures(sim, name: str) -> list[dict]:
    return [e for e in sim.control("GET", "eventgrid/events").json()
            if e["eventType"] == "Microsoft.Resources.ResourceWriteFailure" and e["subject"].endswith(f"/{name}")]


def deliver(functions, event: dict) -> None:
    functions["workspace_events"].get_user_function()(delivered(event))


def blocked(sim) -> list[dict]:
    return [e for e in topic_events(sim) if e["type"] == "AmlLifecycle.Workspace.NameBlocked"]


def test_one_alert_per_failed_create_of_a_held_name_and_none_on_redelivery(topic_env, sim, functions):
    soft_delete("ws-quiet", recent())
    create("ws-quiet")
    [failure] = failures(sim, "ws-quiet")
    assert failure["data"]["status"] == "Failed" and "error" not in failure["data"]
    deliver(functions, failure)
    deliver(functions, failure)  # a redelivery: nothing more
    [alert] = blocked(sim)
    data = alert["data"]
    assert alert["subject"].lower() == ws_id("ws-quiet").lower() and data["heldBy"].lower() == ws_id("ws-quiet").lower()
    assert data["deletedBy"] == "alice@contoso.com" and data["blockedUntil"].endswith("Z")
    assert data["failedCaller"] == "platform.engineer@contoso.example" and data["correlationId"]
    assert "Most likely" in data["message"] and [o["action"] for o in data["options"]] == ["recover", "purge"]
    create("ws-quiet")  # another failed operation: another alert
    second = failures(sim, "ws-quiet")[-1]
    deliver(functions, second)
    assert len(blocked(sim)) == 2 and len({a["id"] for a in blocked(sim)}) == 2


def test_a_failed_create_of_a_name_the_ledger_does_not_hold_sends_nothing(topic_env, sim, functions):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    event = {"id": "f-1", "eventType": "Microsoft.Resources.ResourceWriteFailure", "subject": ws_id("ws-free"),
             "eventTime": recent().isoformat(), "topic": f"/subscriptions/{SUB_DEV}", "dataVersion": "2",
             "metadataVersion": "1", "data": {"operationName": "Microsoft.MachineLearningServices/workspaces/write",
                                              "resourceUri": ws_id("ws-free"), "status": "Failed",
                                              "correlationId": "c-1", "subscriptionId": SUB_DEV}}
    result = RetentionEvents(get_clients(), get_settings()).handle(delivered(event))
    assert result.status == "ignored" and blocked(sim) == []


def test_a_failed_update_of_a_live_workspace_is_not_a_blocked_name(topic_env, sim, functions):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings
    from tests.retention.conftest import event_body

    # The ledger says soft-deleted (a delete event, no ARM delete), but ARM shows the workspace live.
    RetentionEvents(get_clients(), get_settings()).handle(delivered(event_body("delete", "ws-quiet", at=recent())))
    event = {"id": "f-2", "eventType": "Microsoft.Resources.ResourceWriteFailure", "subject": ws_id("ws-quiet"),
             "eventTime": recent().isoformat(), "topic": f"/subscriptions/{SUB_DEV}", "dataVersion": "2",
             "metadataVersion": "1", "data": {"operationName": "Microsoft.MachineLearningServices/workspaces/write",
                                              "resourceUri": ws_id("ws-quiet"), "status": "Failed",
                                              "correlationId": "c-2", "subscriptionId": SUB_DEV}}
    result = RetentionEvents(get_clients(), get_settings()).handle(delivered(event))
    assert result.status == "ignored" and blocked(sim) == []


def test_a_failed_create_with_a_far_future_time_is_dropped_as_malformed_like_any_event(topic_env, sim, functions,
                                                                                       caplog):
    from datetime import timedelta

    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings

    soft_delete("ws-quiet", recent())
    event = {"id": "f-3", "eventType": "Microsoft.Resources.ResourceWriteFailure", "subject": ws_id("ws-quiet"),
             "eventTime": (recent() + timedelta(days=300)).isoformat(), "topic": f"/subscriptions/{SUB_DEV}",
             "dataVersion": "2", "metadataVersion": "1",
             "data": {"operationName": "Microsoft.MachineLearningServices/workspaces/write",
                      "resourceUri": ws_id("ws-quiet"), "status": "Failed", "correlationId": "c-3",
                      "subscriptionId": SUB_DEV}}
    with caplog.at_level("WARNING"):
        result = RetentionEvents(get_clients(), get_settings()).handle(delivered(event))
    assert result.status == "malformed" and blocked(sim) == []
    assert "f-3: eventTime" in caplog.text and "more than 10 minutes after it was received" in caplog.text
