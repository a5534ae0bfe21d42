"""Every alert type reads as a message a person can act on, in both webhook formats; the URL never leaks."""

from __future__ import annotations

import json

import pytest

from shared.azure import alerts
from shared.notify.cards import slack_message, teams_card
from shared.notify.message import message_for
from shared.notify.webhook import NotifySettings
from shared.settings import SettingsError

WS = "/subscriptions/1111/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/ws-churn"
DATA = {
    alerts.WORKSPACE_SOFT_DELETED: {"workspaceName": "ws-churn", "resourceGroup": "rg-ml-dev", "subscriptionId": "1111",
                                    "deletedAt": "2025-05-01T08:12:44+00:00", "purgeAfter": "2025-05-15T08:12:44+00:00",
                                    "deletedBy": "alice@contoso.com", "retentionDays": 14},
    alerts.RETENTION_EXPIRING_SOON: {"workspaceName": "ws-churn", "resourceGroup": "rg-ml-dev", "subscriptionId": "1111",
                                     "purgeAfter": "2025-05-15T08:12:44+00:00", "daysLeft": 2, "hoursLeft": 0},
    alerts.RETENTION_EXPIRED: {"workspaceName": "ws-churn", "purgeAfter": "2025-05-15T08:12:44+00:00"},
    alerts.MOVE_SUCCEEDED: {"moveId": "move-1", "workspaceId": WS, "statusUrl": "/api/moves/move-1"},
    alerts.MOVE_FAILED: {"moveId": "move-1", "workspaceId": WS, "statusUrl": "/api/moves/move-1",
                         "error": {"code": "ResourceMoveFailed", "message": "the target group is locked"}},
    alerts.MOVE_NEEDS_ATTENTION: {"moveId": "move-1", "workspaceId": WS, "statusUrl": "/api/moves/move-1",
                                  "leftToDo": [{"kind": "review-private-endpoint"}]},
    alerts.RETENTION_DIGEST: {"rows": [{}, {}]},
    alerts.WORKSPACE_NAME_BLOCKED: {"workspaceName": "ws-churn", "resourceGroup": "rg-ml-dev", "subscriptionId": "1111",
                                    "failedCaller": "ci@contoso.com", "failedAt": "2025-05-02T09:00:00Z",
                                    "heldBy": WS, "deletedBy": "alice@contoso.com",
                                    "blockedUntil": "2025-05-15T08:12:44Z",
                                    "options": [{"action": "recover", "how": "Recover it in the portal"}]},
}


def test_every_published_alert_type_has_its_own_message() -> None:
    published = {getattr(alerts, n) for n in dir(alerts) if isinstance(getattr(alerts, n), str)
                 and getattr(alerts, n).startswith("AmlLifecycle.")}
    assert published == set(DATA)


def test_name_blocked_says_most_likely_and_until_when() -> None:
    message = message_for(alerts.WORKSPACE_NAME_BLOCKED, WS, DATA[alerts.WORKSPACE_NAME_BLOCKED])
    assert "most likely" in message.title and "2025-05-15 08:12 UTC" in message.title
    assert ("Failed caller", "ci@contoso.com") in message.facts and "Recover it in the portal" in message.todo


@pytest.mark.parametrize("event_type", sorted(DATA))
def test_each_alert_type_says_what_happened_where_and_what_to_do(event_type: str) -> None:
    message = message_for(event_type, WS, DATA[event_type], api_url="https://app.example")
    assert message.title and message.summary and message.links
    if event_type != alerts.RETENTION_DIGEST:
        assert "ws-churn" in message.title
    if "Retention" in event_type or "SoftDeleted" in event_type:
        assert any("2025-05-15 08:12 UTC" in text for text in (message.title, message.summary, *dict(message.facts).values())) \
            or event_type == alerts.RETENTION_DIGEST
    if event_type.startswith("AmlLifecycle.Move."):
        assert ("Move status (API)", "https://app.example/api/moves/move-1") in message.links
    card = teams_card(message)["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == message.title
    slack = slack_message(message)
    assert slack["blocks"][0]["text"]["text"] == message.title[:150] and message.title in slack["text"]


def test_the_failed_move_carries_arms_reason() -> None:
    message = message_for(alerts.MOVE_FAILED, WS, DATA[alerts.MOVE_FAILED])
    assert "the target group is locked" in message.summary and ("Error", "ResourceMoveFailed") in message.facts


def test_webhook_settings_refuse_plain_http_and_never_show_the_url() -> None:
    with pytest.raises(SettingsError) as refused:
        NotifySettings.from_env({"AML_LIFECYCLE_NOTIFY_WEBHOOK_URL": "http://hooks.example/x?sig=s3cr3t"})
    assert "s3cr3t" not in str(refused.value)
    slack = NotifySettings.from_env({"AML_LIFECYCLE_NOTIFY_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/s3cr3t"})
    assert slack.kind == "slack" and "s3cr3t" not in repr(slack) and slack.host == "hooks.slack.com"
    assert json.dumps(NotifySettings.from_env({}).__dict__)  # no webhook: nothing to post, still valid
