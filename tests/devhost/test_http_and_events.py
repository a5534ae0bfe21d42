"""Dev host over real HTTP: HTTP triggers and keys, Event Grid and CloudEvents deliveries, the admin endpoint."""

from __future__ import annotations

import uuid

from tests.devhost.conftest import DevHostUnderTest, http, poll


def test_function_level_route_needs_the_key(devhost: DevHostUnderTest) -> None:
    url = f"{devhost.url}/api/things/widget/42?q=search"
    assert http("GET", url).status == 401
    assert http("GET", url, headers={"x-functions-key": "wrong"}).status == 401

    by_header = http("POST", url, raw=b"payload", headers={"x-functions-key": devhost.key, "X-Sample": "h"})
    assert by_header.status == 200
    assert by_header.headers["x-out"] == "yes"
    assert by_header.headers["content-type"].startswith("application/json")
    assert by_header.json() == {"kind": "widget", "id": "42", "method": "POST", "q": "search", "body": "payload",
                                "header": "h", "url": url}

    by_code = http("GET", f"{url}&code={devhost.key}")
    assert by_code.status == 200 and by_code.json()["id"] == "42"


def test_route_constraints_methods_and_anonymous(devhost: DevHostUnderTest) -> None:
    key = {"x-functions-key": devhost.key}
    assert http("GET", f"{devhost.url}/api/things/widget/not-a-number", headers=key).status == 404
    assert http("DELETE", f"{devhost.url}/api/things/widget/1", headers=key).status == 404
    assert http("GET", f"{devhost.url}/api/nowhere", headers=key).status == 404
    ping = http("GET", f"{devhost.url}/api/PING")
    assert (ping.status, ping.body) == (200, b"pong")


def _event(event_id: str, **data: object) -> dict:
    return {"id": event_id, "topic": "/subscriptions/x", "subject": f"/things/{event_id}",
            "eventType": "Sample.Happened", "eventTime": "2024-01-01T00:00:00Z", "data": data, "dataVersion": "1"}


def _webhook(devhost: DevHostUnderTest, name: str = "record_event", key: bool = True) -> str:
    code = f"&code={devhost.eventgrid_key}" if key else ""
    return f"{devhost.url}/runtime/webhooks/eventgrid?functionName={name}{code}"


def test_eventgrid_subscription_validation(devhost: DevHostUnderTest) -> None:
    validation = [{"id": "v1", "topic": "t", "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                   "eventTime": "2024-01-01T00:00:00Z", "dataVersion": "2",
                   "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", "validationUrl": "https://x"}}]
    headers = {"aeg-event-type": "SubscriptionValidation"}
    assert http("POST", _webhook(devhost, key=False), body=validation, headers=headers).status == 401
    assert http("POST", _webhook(devhost, "nope"), body=validation, headers=headers).status == 404
    reply = http("POST", _webhook(devhost), body=validation, headers=headers)
    assert reply.status == 200
    assert reply.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}


def test_eventgrid_batch_fails_as_a_whole_then_redelivery_succeeds(devhost: DevHostUnderTest) -> None:
    tag = uuid.uuid4().hex[:8]
    batch = [_event(f"{tag}-a", n=1), _event(f"{tag}-b", fail=True), _event(f"{tag}-c", n=3)]
    headers = {"aeg-event-type": "Notification"}
    failed = http("POST", _webhook(devhost), body=batch, headers=headers)
    assert failed.status == 500
    assert f"{tag}-b" in failed.json()["error"] and b"marked to fail" not in failed.body  # reason: host log only
    assert http("POST", _webhook(devhost), body=batch, headers=headers).status == 202
    recorded = [r for r in devhost.records_of("events") if r["id"].startswith(tag)]
    assert sorted(r["id"] for r in recorded) == [f"{tag}-a", f"{tag}-a", f"{tag}-b", f"{tag}-c", f"{tag}-c"]
    b = next(r for r in recorded if r["id"] == f"{tag}-b")
    assert b == {"schema": "eventgrid", "id": f"{tag}-b", "type": "Sample.Happened", "subject": f"/things/{tag}-b",
                 "data": {"fail": True}, "topic": "/subscriptions/x"}


def test_eventgrid_requires_a_known_event_type_header(devhost: DevHostUnderTest) -> None:
    assert http("POST", _webhook(devhost), body=[_event("x")]).status == 400
    assert http("POST", _webhook(devhost), body=[], headers={"aeg-event-type": "Unsubscribe"}).status == 202


def test_cloudevents_handshake_single_and_batch(devhost: DevHostUnderTest) -> None:
    options = http("OPTIONS", _webhook(devhost), headers={"WebHook-Request-Origin": "eventgrid.azure.net"})
    assert options.status == 200 and options.headers["webhook-allowed-origin"] == "eventgrid.azure.net"
    tag = uuid.uuid4().hex[:8]

    def cloud_event(n: int) -> dict:
        return {"specversion": "1.0", "id": f"{tag}-{n}", "source": "/sample/source", "type": "Sample.Cloud",
                "subject": f"item/{n}", "time": "2024-01-01T00:00:00Z", "datacontenttype": "application/json",
                "data": {"n": n}}

    headers = {"aeg-event-type": "Notification", "Content-Type": "application/cloudevents+json; charset=utf-8"}
    assert http("POST", _webhook(devhost), body=cloud_event(1), headers=headers).status == 202
    headers["Content-Type"] = "application/cloudevents-batch+json; charset=utf-8"
    assert http("POST", _webhook(devhost), body=[cloud_event(2), cloud_event(3)], headers=headers).status == 202
    recorded = sorted((r for r in devhost.records_of("events") if r["id"].startswith(tag)), key=lambda r: r["id"])
    assert [r["id"] for r in recorded] == [f"{tag}-1", f"{tag}-2", f"{tag}-3"]
    assert recorded[0] == {"schema": "cloudevents", "id": f"{tag}-1", "type": "Sample.Cloud", "subject": "item/1",
                           "data": {"n": 1}, "source": "/sample/source"}


def test_admin_endpoint_runs_the_timer_now(devhost: DevHostUnderTest) -> None:
    before = len(devhost.records_of("timer"))
    url = f"{devhost.url}/admin/functions/nightly"
    assert http("POST", url, body={"input": ""}).status == 401
    assert http("POST", url, body={"input": ""}, headers={"x-functions-key": devhost.master_key}).status == 202
    records = poll(lambda: devhost.records_of("timer")[before:], what="the timer to run")
    assert records[0]["past_due"] is False
    assert set(records[0]["status"]) == {"Last", "Next", "LastUpdated"}
    assert records[0]["status"]["Next"].endswith("03:00:00+00:00")
    assert http("POST", f"{devhost.url}/admin/functions/missing", body={},
                headers={"x-functions-key": devhost.master_key}).status == 404
