"""Microsoft.Resources events to webhook subscribers, and the alerts topic via EventGridPublisherClient."""
from __future__ import annotations

import pytest
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridPublisherClient

from .conftest import SUB_DEV, TENANT, call, wait_for, ws_id
from .test_ml import begin

UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"


def test_handshake_then_delete_event_shaped_like_the_sample(simulator, receiver, ml):
    subscriber = simulator.control("POST", "/_sim/eventgrid/subscriptions", {"endpoint": receiver.url})
    assert receiver.handshakes[0]["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"
    assert subscriber["schema"] == "EventGridSchema"
    begin(ml, "DELETE", ws_id("ws-quiet"), forceToPurge="true").result()
    event = wait_for(lambda: next((e for e in receiver.events if e["eventType"].endswith("DeleteSuccess")), None))
    assert set(event) == {"subject", "eventType", "eventTime", "id", "data", "dataVersion", "metadataVersion", "topic"}
    assert event["topic"] == f"/subscriptions/{SUB_DEV}" and event["subject"] == ws_id("ws-quiet")
    assert (event["dataVersion"], event["metadataVersion"]) == ("2", "1")
    data = event["data"]
    assert data["operationName"] == "Microsoft.MachineLearningServices/workspaces/delete"
    assert data["resourceProvider"] == "Microsoft.MachineLearningServices"
    assert data["resourceUri"] == ws_id("ws-quiet") and data["status"] == "Succeeded"
    assert (data["subscriptionId"], data["tenantId"]) == (SUB_DEV, TENANT)
    assert data["authorization"]["action"] == "Microsoft.MachineLearningServices/workspaces/delete"
    assert data["claims"][UPN] == "platform.engineer@contoso.example" and data["claims"]["appid"]
    assert data["httpRequest"]["method"] == "DELETE"
    assert data["httpRequest"]["url"].startswith(simulator.url + ws_id("ws-quiet").lower().replace(ws_id("ws-quiet").lower(), ws_id("ws-quiet")))
    assert "forceToPurge=true" in data["httpRequest"]["url"] and "api-version=" in data["httpRequest"]["url"]
    assert data["correlationId"] and data["httpRequest"]["clientRequestId"]
    assert receiver.headers[0]["aeg-event-type"] == "Notification"


def test_write_event_and_retry_after_a_non_2xx(simulator, receiver, ml):
    simulator.control("POST", "/_sim/eventgrid/subscriptions", {"endpoint": receiver.url})
    receiver.fail_next = 2
    call(ml, "PUT", ws_id("ws-quiet") + "/jobs/job-new", {"properties": {"jobType": "Command", "status": "Running"}})
    event = wait_for(lambda: receiver.events and receiver.events[0])
    assert event["eventType"] == "Microsoft.Resources.ResourceWriteSuccess"
    assert event["data"]["operationName"] == "Microsoft.MachineLearningServices/workspaces/jobs/write"
    attempts = [d for d in simulator.control("GET", "/_sim/eventgrid/deliveries") if d["outcome"] != "handshake"]
    assert [(d["attempt"], d["status"], d["outcome"]) for d in attempts] == [
        (1, 503, "retrying"), (2, 503, "retrying"), (3, 200, "delivered")]
    assert receiver.headers[0]["aeg-delivery-count"] == "2"


def test_events_keep_emit_order_and_cloud_events_schema(simulator, receiver, ml):
    simulator.control("POST", "/_sim/eventgrid/subscriptions", {"endpoint": receiver.url, "schema": "CloudEventSchemaV1_0"})
    for name in ("a", "b", "c"):
        call(ml, "PUT", ws_id("ws-quiet") + f"/jobs/job-{name}", {"properties": {"status": "Running"}})
    wait_for(lambda: len(receiver.events) == 3)
    assert [e["subject"].rsplit("/", 1)[-1] for e in receiver.events] == ["job-a", "job-b", "job-c"]
    event = receiver.events[0]
    assert event["specversion"] == "1.0" and event["type"] == "Microsoft.Resources.ResourceWriteSuccess"
    assert event["source"] == f"/subscriptions/{SUB_DEV}"


def test_failed_handshake_refuses_the_subscription(simulator):
    from urllib.error import HTTPError
    with pytest.raises(HTTPError) as err:
        simulator.control("POST", "/_sim/eventgrid/subscriptions", {"endpoint": "http://127.0.0.1:9/nothing"})
    assert err.value.code == 400


def test_topic_accepts_a_real_publisher_and_checks_the_key(simulator):
    # azure-eventgrid 4.22.1 drops constructor kwargs for basic topics: pass connection_verify to send().
    endpoint = simulator.url + "/_sim/topics/alerts/api/events"
    tls = {"connection_verify": simulator.ca_bundle}
    client = EventGridPublisherClient(endpoint, AzureKeyCredential("topic-key"))
    client.send([CloudEvent(source="/aml-lifecycle", type="AmlLifecycle.Workspace.SoftDeleted",
                            subject=ws_id("ws-quiet"), data={"daysLeft": 14})], **tls)
    published = simulator.control("GET", "/_sim/topics/alerts/events")
    assert len(published) == 1 and published[0]["contentType"] == "application/cloudevents-batch+json"
    assert published[0]["event"]["type"] == "AmlLifecycle.Workspace.SoftDeleted"
    assert published[0]["event"]["data"] == {"daysLeft": 14}
    wrong = EventGridPublisherClient(endpoint, AzureKeyCredential("nope"))
    with pytest.raises(ClientAuthenticationError):
        wrong.send([CloudEvent(source="/x", type="T", data={})], **tls)
    simulator.control("POST", "/_sim/faults", {"method": "POST", "path": "^/_sim/topics/alerts/api/events$", "kind": "error", "status": 503, "count": 2})
    with pytest.raises(HttpResponseError) as err:
        client.send([CloudEvent(source="/x", type="T", data={})], retry_total=1, **tls)
    assert err.value.status_code == 503
    simulator.control("DELETE", "/_sim/topics/alerts/events")
    assert simulator.control("GET", "/_sim/topics/alerts/events") == []
