"""publish_alert: the CloudEvent it sends, logging without a topic, and a clear error when the topic fails."""

from __future__ import annotations

import logging

import pytest
from azure.core.exceptions import HttpResponseError

from shared.azure.alerts import SOURCE, WORKSPACE_SOFT_DELETED, AlertPublishError, alert_id, publish_alert
from tests.conftest import ws_id


class FakeClients:
    def __init__(self, publisher):
        self._publisher = publisher

    def alerts_publisher(self):
        return self._publisher

    def alerts_send_options(self):
        return {"retry_total": 4}


class Recorder:
    def __init__(self, fail: Exception | None = None):
        self.sent, self.fail = [], fail

    def send(self, events, **options):
        if self.fail:
            raise self.fail
        self.sent.extend(events)


def test_sends_a_cloudevent_with_source_subject_and_type():
    publisher = Recorder()
    clients = FakeClients(publisher)
    event_id = publish_alert(clients, WORKSPACE_SOFT_DELETED, ws_id("ws-quiet"), {"a": 1}, event_id="e-1")
    [event] = publisher.sent
    assert (event.source, event.type, event.subject, event.id, event.data) == (
        SOURCE, WORKSPACE_SOFT_DELETED, ws_id("ws-quiet"), "e-1", {"a": 1})
    assert event.specversion == "1.0" and event_id == "e-1"


def test_without_topic_the_alert_is_logged(caplog):
    caplog.set_level(logging.INFO, "aml_lifecycle.alerts")
    publish_alert(FakeClients(None), WORKSPACE_SOFT_DELETED, ws_id("ws-quiet"), {"deletedBy": "bob"})
    assert "logged only" in caplog.text and "ws-quiet" in caplog.text


def test_failure_raises_alert_publish_error_without_secret():
    failing = Recorder(HttpResponseError(message="Forbidden: key=SuperSecret123 rejected"))
    with pytest.raises(AlertPublishError) as info:
        publish_alert(FakeClients(failing), WORKSPACE_SOFT_DELETED, ws_id("ws-quiet"), {})
    assert "SuperSecret123" not in str(info.value)
    assert info.value.event_type == WORKSPACE_SOFT_DELETED


def test_alert_ids_are_stable_per_episode_and_token():
    assert alert_id("k", "2025-01-01", "7") == alert_id("K", "2025-01-01", "7")
    assert alert_id("k", "2025-01-01", "7") != alert_id("k", "2025-01-01", "3")
