"""WatchedCheck: listed ids from the settings (no ARM call); `*` / a management group resolved once, then from memory,
again after 15 minutes, or after a minute when an unknown subscription's event arrives."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.retention import watched
from shared.retention.watched import WatchedCheck, WatchedSet, WatchedSubscription

A, B = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """resolve_watched replaced: counts its calls, answers the subscriptions in `arm.ids`."""
    state = SimpleNamespace(ids=[A], calls=0)

    def resolve(_clients, settings):
        state.calls += 1
        return WatchedSet("all", tuple(WatchedSubscription(s) for s in state.ids))

    monkeypatch.setattr(watched, "resolve_watched", resolve)
    return state


def settings(**values) -> SimpleNamespace:
    return SimpleNamespace(**{"watched_subscriptions": (), "watch_all": False, "watched_management_group": None,
                              **values})


def test_listed_ids_never_ask_arm(arm):
    check = WatchedCheck()
    listed = settings(watched_subscriptions=(A.upper(),))
    assert check.is_watched(None, listed, A) and not check.is_watched(None, listed, B)
    assert arm.calls == 0


def test_all_resolves_once_then_refreshes_on_a_miss_after_a_minute_and_every_15_minutes(arm):
    check, clock, everything = WatchedCheck(), Clock(), settings(watch_all=True)
    assert check.is_watched(None, everything, A, clock=clock) and arm.calls == 1
    arm.ids = [A, B]  # a subscription vended meanwhile
    clock.now += 30
    assert not check.is_watched(None, everything, B, clock=clock) and arm.calls == 1  # a miss within the minute
    clock.now += 31
    assert check.is_watched(None, everything, B, clock=clock) and arm.calls == 2  # a miss after it: listed again
    clock.now += 600
    assert check.is_watched(None, everything, A, clock=clock) and arm.calls == 2  # known: from memory
    arm.ids = [B]  # A left the management group / was deleted
    clock.now += 300
    assert not check.is_watched(None, everything, A, clock=clock) and arm.calls == 3  # 15 minutes: listed again
