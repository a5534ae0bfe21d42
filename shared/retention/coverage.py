"""Coverage report (`GET /api/coverage`): which watched subscriptions deliver workspace events to the app, which not."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from shared.errors import describe_azure_error
from shared.retention.watched import WatchedSubscription, resolve_watched
from shared.settings import Settings
from shared.times import iso_z

log = logging.getLogger("aml_lifecycle.coverage")
TOPIC_TYPE = "microsoft.resources.subscriptions"
FUNCTION_NAME = "workspace_events"
DELETE_EVENT = "microsoft.resources.resourcedeletesuccess"
MAX_PARALLEL = 8


def _lower(value: Any) -> str:
    return str(value or "").lower()


def _targets_app(subscription: Any) -> bool:
    """The event subscription delivers to the workspace_events function (Azure Function or its webhook URL)."""
    destination = subscription.destination
    kind = _lower(getattr(destination, "endpoint_type", None))
    if kind == "azurefunction":
        return _lower(getattr(destination, "resource_id", None)).endswith(f"/functions/{FUNCTION_NAME}")
    if kind == "webhook":  # the Functions Event Grid webhook: /runtime/webhooks/eventgrid?functionName=workspace_events
        return f"functionname={FUNCTION_NAME}" in _lower(getattr(destination, "endpoint_base_url", None))
    return False


def _problem(subscription: Any) -> str | None:
    """Why an event subscription to the app would still miss deletions; None when it is complete."""
    state = _lower(subscription.provisioning_state)
    if state and state != "succeeded":
        return f"event subscription {subscription.name} is {subscription.provisioning_state}"
    types = getattr(subscription.filter, "included_event_types", None) if subscription.filter else None
    if types and DELETE_EVENT not in {_lower(t) for t in types}:
        return f"event subscription {subscription.name} does not include Microsoft.Resources.ResourceDeleteSuccess"
    return None


def check_subscription(clients: Any, watched: WatchedSubscription) -> dict[str, Any]:
    """One subscription's wiring, read from ARM (Microsoft.EventGrid 2025-02-15: SystemTopics_ListBySubscription,
    SystemTopicEventSubscriptions_ListBySystemTopic, both paged by nextLink).

    Returns `{"subscriptionId", "displayName"?, "status": wired|missing|unknown, "systemTopic"?, "eventSubscription"?,
    "function"? (the function app's workspace_events it delivers to: any app's counts, so check it names yours),
    "reason"?}`; an ARM failure (403 without Microsoft.EventGrid/systemTopics/read, throttling) is `unknown` with the
    reason, never raised.
    """
    sub = watched.subscription_id
    row: dict[str, Any] = {"subscriptionId": sub}
    if watched.display_name:
        row["displayName"] = watched.display_name
    try:
        client = clients.eventgrid(sub)
        topics = [t for t in client.system_topics.list_by_subscription()
                  if _lower(t.topic_type) == TOPIC_TYPE and _lower(t.source) == f"/subscriptions/{sub}"]
        if not topics:
            return {**row, "status": "missing", "reason": "no Microsoft.Resources.Subscriptions system topic"}
        reasons = []
        for topic in topics:
            group = topic.id.split("/")[4]
            row["systemTopic"] = topic.id
            for subscription in client.system_topic_event_subscriptions.list_by_system_topic(group, topic.name):
                if not _targets_app(subscription):
                    continue
                problem = _problem(subscription)
                if problem is None:
                    target = getattr(subscription.destination, "resource_id", None)
                    return {**row, "status": "wired", "eventSubscription": subscription.id,
                            **({"function": target} if target else {})}
                reasons.append(problem)
        reason = "; ".join(reasons) or f"system topic has no event subscription to {FUNCTION_NAME}"
        return {**row, "status": "missing", "reason": reason}
    except Exception as exc:  # ARM refused or failed past the retries: say so for this subscription only
        return {**row, "status": "unknown", "reason": describe_azure_error(exc)}


def coverage_report(clients: Any, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """The watched subscriptions and their wiring, plus readable subscriptions that are not watched.

    Shape: `{"mode", "managementGroup"?, "checkedAt", "subscriptions": [check_subscription rows],
    "wired": [ids], "missing": [ids], "unknown": [ids], "notWatched": [{"subscriptionId", "displayName"?}],
    "errors"?: [str]}`. Listing the watched or readable subscriptions may fail (403): `errors` says so.
    """
    report: dict[str, Any] = {"checkedAt": iso_z(now)}
    errors = []
    try:
        watched = resolve_watched(clients, settings)
        report.update(watched.describe())
        subscriptions = list(watched.subscriptions)
    except Exception as exc:
        errors.append(f"listing the watched subscriptions failed: {describe_azure_error(exc)}")
        report["mode"], subscriptions = ("managementGroup" if settings.watched_management_group else "all"), []
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
        rows = list(pool.map(lambda w: check_subscription(clients, w), subscriptions))
    report["subscriptions"] = rows
    for status in ("wired", "missing", "unknown"):
        report[status] = [r["subscriptionId"] for r in rows if r["status"] == status]
    watched_ids = {r["subscriptionId"] for r in rows}
    try:
        readable = [s for s in clients.subscriptions().subscriptions.list()
                    if s.subscription_id and s.subscription_id.lower() not in watched_ids
                    and _lower(s.state) != "deleted"]
        report["notWatched"] = sorted(
            ({"subscriptionId": s.subscription_id.lower(), **({"displayName": s.display_name} if s.display_name else {})}
             for s in readable), key=lambda r: r["subscriptionId"])
    except Exception as exc:
        errors.append(f"listing the readable subscriptions failed: {describe_azure_error(exc)}")
    if errors:
        report["errors"] = errors
    if report["missing"] or report["unknown"]:
        log.warning("coverage: %d watched subscriptions without workspace events: %s",
                    len(report["missing"]) + len(report["unknown"]), ", ".join(report["missing"] + report["unknown"]))
    return report
