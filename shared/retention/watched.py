"""Which subscriptions the app watches: the listed ids, every readable one (`*`) or a management group's."""

from __future__ import annotations

import logging
import threading
import time
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


class WatchedCheck:
    """Whether a subscription is watched now, for each delivered event (docs/retention.md, "Events the app refuses").

    Listed ids answer from the settings (no ARM call). `*` and a management group resolve through ARM once and then
    from memory: again after REFRESH, or after MISS_REFRESH when an unknown subscription arrives (a subscription vended
    a minute ago is watched without waiting for the full period). ARM failures raise (Event Grid redelivers).
    """

    REFRESH_SECONDS = 900.0
    MISS_REFRESH_SECONDS = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resolved: dict[tuple, tuple[float, frozenset[str]]] = {}

    def is_watched(self, clients: Any, settings: Settings, subscription_id: str, *, clock=time.monotonic) -> bool:
        wanted = subscription_id.lower()
        if watch_mode(settings) == "listed":
            return wanted in {s.lower() for s in settings.watched_subscriptions}
        key = (watch_mode(settings), settings.watched_management_group)
        with self._lock:
            at, ids = self._resolved.get(key, (None, frozenset()))
        now = clock()
        stale = at is None or now - at >= self.REFRESH_SECONDS
        if not stale and (wanted in ids or now - at < self.MISS_REFRESH_SECONDS):
            return wanted in ids
        ids = frozenset(resolve_watched(clients, settings).ids)
        with self._lock:
            self._resolved[key] = (now, ids)
        return wanted in ids

    def forget(self) -> None:
        """Drop what was resolved (tests; a settings change)."""
        with self._lock:
            self._resolved.clear()


WATCHED = WatchedCheck()
