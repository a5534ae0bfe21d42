"""Which subscriptions the app watches: the listed ids, every readable one (`*`) or a management group's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.azure.arm_ids import is_guid
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.watched")
# Subscriptions REST (Microsoft.Resources, Subscriptions_List): state is Enabled, Warned, PastDue, Disabled or Deleted.
# A Deleted subscription has no workspaces left to watch; a Disabled one is read-only and keeps its workspaces.
SKIPPED_STATES = frozenset({"deleted"})
# Management Groups REST (ManagementGroups_GetDescendants, 2023-04-01): the type of a subscription descendant.
MG_SUBSCRIPTION_TYPE = "microsoft.management/managementgroups/subscriptions"


@dataclass(frozen=True)
class WatchedSubscription:
    subscription_id: str  # lower case
    display_name: str | None = None


@dataclass(frozen=True)
class WatchedSet:
    """The watch mode (`listed`, `all`, `managementGroup`) and the subscriptions it covers now."""

    mode: str
    subscriptions: tuple[WatchedSubscription, ...]
    management_group: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.subscription_id for s in self.subscriptions)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.management_group:
            out["managementGroup"] = self.management_group
        return out


def watch_mode(settings: Settings) -> str:
    if settings.watched_management_group:
        return "managementGroup"
    return "all" if settings.watch_all else "listed"


def resolve_watched(clients: Any, settings: Settings) -> WatchedSet:
    """The subscriptions AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS stands for right now.

    Listed ids are returned as they are (no ARM call). `*` pages through ARM's subscriptions list
    (`GET /subscriptions`, azure-mgmt-resource SubscriptionClient: every subscription the identity holds a role in);
    a management group pages through its descendants (`GET /providers/Microsoft.Management/managementGroups/{id}/
    descendants`, azure-mgmt-managementgroups), nested groups included. Deleted subscriptions are left out.
    ARM failures (403, throttling past the retries) raise azure.core's HttpResponseError: the caller reports them.
    """
    mode = watch_mode(settings)
    if mode == "listed":
        return WatchedSet(mode, tuple(WatchedSubscription(s.lower()) for s in settings.watched_subscriptions))
    found: dict[str, WatchedSubscription] = {}
    if mode == "all":
        for sub in clients.subscriptions().subscriptions.list():
            state = str(getattr(sub, "state", "") or "").lower()
            if sub.subscription_id and state not in SKIPPED_STATES:
                key = sub.subscription_id.lower()
                found.setdefault(key, WatchedSubscription(key, sub.display_name))
    else:
        group = settings.watched_management_group
        for item in clients.management_groups().management_groups.get_descendants(group):
            is_subscription = ((item.type or "").lower() in (MG_SUBSCRIPTION_TYPE, "/subscriptions")
                               or (item.id or "").lower().startswith("/subscriptions/"))
            if is_subscription and item.name and is_guid(item.name):
                key = item.name.lower()
                found.setdefault(key, WatchedSubscription(key, getattr(item.properties, "display_name", None)))
    log.info("watched subscriptions (%s): %d found", mode, len(found))
    return WatchedSet(mode, tuple(sorted(found.values(), key=lambda s: s.subscription_id)),
                      settings.watched_management_group)
