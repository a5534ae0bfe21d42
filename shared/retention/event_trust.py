"""Which delivered events the ledger may apply: the resource inside its topic's scope, in a watched subscription."""

from __future__ import annotations

from typing import Any

from shared.azure.arm_ids import ArmIdError, ResourceGroupId, parse_scope
from shared.retention.events import Envelope, GroupDeleteEvent, WorkspaceEvent, WriteFailureEvent
from shared.retention.watched import WATCHED, watch_mode
from shared.settings import Settings

Event = WorkspaceEvent | GroupDeleteEvent | WriteFailureEvent


def refusal(clients: Any, settings: Settings, envelope: Envelope, event: Event) -> str | None:
    """Why the ledger must not apply this event (its topic, an unwatched subscription), or None.

    Raises what the watched check raises when it must ask ARM (`*`, a management group) and ARM fails.
    """
    problem = topic_problem(envelope, event)
    if problem is not None:
        return problem
    subscription = event.group.subscription_id if isinstance(event, GroupDeleteEvent) else event.workspace.subscription_id
    if not WATCHED.is_watched(clients, settings, subscription):
        return (f"subscription {subscription} is not watched (AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS, mode "
                f"{watch_mode(settings)})")
    return None


def topic_problem(envelope: Envelope, event: Event) -> str | None:
    """Why the event's resource does not belong to the topic it came from, or None.

    A subscription system topic publishes with `topic` (Event Grid schema) / `source` (CloudEvents) =
    `/subscriptions/{id}` (docs: event-schema-subscriptions; a resource group topic: `/subscriptions/{id}/
    resourceGroups/{name}`, event-schema-resource-groups), and only for resources inside that scope. An event whose
    `resourceUri` lies elsewhere was not published by ARM for it: the ledger does not apply it.
    """
    if not envelope.source:
        return "it names no topic (Event Grid `topic` / CloudEvents `source`)"
    try:
        scope = parse_scope(envelope.source)
    except ArmIdError:
        return f"its topic {envelope.source[:200]!r} is not a subscription or resource group scope"
    resource = event.group if isinstance(event, GroupDeleteEvent) else event.workspace
    if resource.subscription_id.lower() != scope.subscription_id.lower():
        return (f"its resourceUri is in subscription {resource.subscription_id}, its topic {scope.id} in another "
                "subscription")
    group = resource.name if isinstance(event, GroupDeleteEvent) else resource.resource_group
    if isinstance(scope, ResourceGroupId) and group.lower() != scope.name.lower():
        return f"its resourceUri {resource.id} is outside its topic's resource group {scope.id}"
    return None
