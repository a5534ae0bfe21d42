"""A SoftDeleted alert reaches a person: workspace deleted in the simulator → the app's alert on the topic → delivered
to `alert_notifier` as Event Grid does → the exact card on a loopback webhook; failures retried within bounds and
left to Event Grid's redelivery."""

from __future__ import annotations

from typing import Any

import requests

from local.waiting import wait_until
from shared.notify.webhook import NotifySettings, render
from tests.conftest import TOPIC, ws_id


def soft_delete_alert(host: Any, sim: Any) -> dict:
    """Delete ws-twin in the simulator; the CloudEvent the app then published to the alerts topic."""
    from shared.azure.clients import get_clients

    webhook = f"{host.url}/runtime/webhooks/eventgrid?functionName=workspace_events&code={host.eventgrid_key}"
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook})
    deleted = ws_id("ws-twin")
    get_clients().resources(deleted.split("/")[2]).resources.begin_delete_by_id(
        deleted, api_version="2025-09-01", polling_interval=0.05).result()

    def published() -> list[dict]:
        return [e["event"] for e in sim.control("GET", f"topics/{TOPIC}/events").json()
                if e["event"]["type"] == "AmlLifecycle.Workspace.SoftDeleted"]

    [event] = wait_until(published, "the SoftDeleted alert on the topic")
    return event


def deliver(host: Any, event: dict) -> int:
    """What Event Grid does for a CloudEvents subscription with the AzureFunction endpoint: one event, POSTed."""
    url = f"{host.url}/runtime/webhooks/eventgrid?functionName=alert_notifier&code={host.eventgrid_key}"
    answer = requests.post(url, json=event, headers={"Content-Type": "application/cloudevents+json; charset=utf-8",
                                                     "aeg-event-type": "Notification"}, timeout=60)
    return answer.status_code


def test_a_soft_delete_reaches_the_webhook_as_a_readable_card(notifying_host: Any, sim: Any, webhook: Any) -> None:
    event = soft_delete_alert(notifying_host, sim)
    assert deliver(notifying_host, event) in (200, 202, 204)
    [got] = webhook.received
    expected = render(NotifySettings.from_env({"AML_LIFECYCLE_NOTIFY_WEBHOOK_URL": webhook.url,
                                               "AML_LIFECYCLE_PUBLIC_URL": "https://func-api-demo.azurewebsites.net"}),
                      event["type"], event["subject"], event["data"])
    assert got["body"] == expected and got["contentType"].startswith("application/json")
    assert got["path"].endswith("sig=s3cr3t")

    card = got["body"]["attachments"][0]["content"]
    text = "\n".join(b.get("text", "") for b in card["body"])
    facts = {f["title"]: f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]}
    assert "Workspace ws-twin was deleted — recoverable until 20" in text and " UTC" in text
    assert facts["Workspace"] == "ws-twin" and facts["Recoverable until"].endswith("UTC") and facts["Deleted by"]
    assert "Recently deleted" in text and "Recover" in text
    urls = {a["title"]: a["url"] for a in card["actions"]}
    assert urls["Recently deleted (Azure portal)"].startswith("https://portal.azure.com/")
    assert urls["Retention record (API)"] == ("https://func-api-demo.azurewebsites.net/api/retention/"
                                              + "/".join(event["subject"].split("/")[i] for i in (2, 4, 8)))
    assert "docs/retention.md" in text


def test_a_failing_webhook_is_retried_within_bounds_then_left_to_event_grid(notifying_host: Any, sim: Any,
                                                                            webhook: Any) -> None:
    event = soft_delete_alert(notifying_host, sim)
    webhook.script = [(503, {})] * 3
    assert deliver(notifying_host, event) >= 500  # Event Grid keeps the event and redelivers it
    assert webhook.attempts == 3 and webhook.received == []
    assert "s3cr3t" not in notifying_host.logs()

    webhook.script = [(429, {"Retry-After": "1"})]
    assert deliver(notifying_host, event) in (200, 202, 204)  # the redelivery: throttled once, then taken
    assert webhook.attempts == 5 and len(webhook.received) == 1
