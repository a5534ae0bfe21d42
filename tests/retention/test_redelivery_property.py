"""Property: any order of redelivery sends the soft-delete alerts one in-order delivery sends, each once
(hypothesis over mixed delete / purge / write sequences of one workspace, through the real function and the
simulator's alerts topic)."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TOPIC
from tests.retention.conftest import delivered, event_body, sweep, topic_events

NOW = datetime.now(timezone.utc).replace(microsecond=0)
KINDS = st.sampled_from(["delete", "delete", "write", "purge"])
# Minutes before now: the whole sequence fits in the 48-hour reorder window and every window is still open, so in-order
# delivery alerts each episode a delete opens; a few land in the last five minutes (the blind-create path).
STEPS = st.lists(st.tuples(KINDS, st.integers(min_value=0, max_value=40 * 60)), min_size=1, max_size=6,
                 unique_by=lambda s: s[1])
_names = itertools.count()


def bodies(steps: list[tuple[str, int]], name: str) -> list[dict]:
    """The events in event-time order."""
    ordered = sorted(steps, key=lambda s: -s[1])
    return [event_body("delete" if kind == "purge" else kind, name, at=NOW - timedelta(minutes=minutes),
                       event_id=f"{name}-{i}", purge=kind == "purge", correlation=f"c{i}")
            for i, (kind, minutes) in enumerate(ordered)]


def soft_delete_alerts(sim, name: str) -> list[dict]:
    return [e for e in topic_events(sim)
            if e["type"] == "AmlLifecycle.Workspace.SoftDeleted" and e["subject"].endswith(f"/{name}")]


def soft_delete_alert_ids(sim, name: str) -> Counter:
    return Counter(e["id"] for e in soft_delete_alerts(sim, name))


def deliver(handler, events: list[dict]) -> None:
    for body in events:
        handler(delivered(body))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, seed=st.integers(0, 2**16))
def test_redelivery_in_any_order_sends_the_in_order_alerts_exactly_once(functions, topic_env, sim, steps, seed):
    handler = functions["workspace_events"].get_user_function()
    events = bodies(steps, f"ws-prop-{next(_names)}")
    name = events[0]["subject"].rsplit("/", 1)[1]
    deliver(handler, events)
    in_order = soft_delete_alert_ids(sim, name)
    assert set(in_order.values()) <= {1}
    shuffled = events * 3
    random.Random(seed).shuffle(shuffled)
    deliver(handler, shuffled)
    assert soft_delete_alert_ids(sim, name) == in_order


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, seed=st.integers(0, 2**16))
def test_a_first_delivery_out_of_order_sends_every_in_order_alert_once(functions, topic_env, sim, steps, seed):
    handler = functions["workspace_events"].get_user_function()
    in_order = bodies(steps, f"ws-prop-{next(_names)}")
    deliver(handler, in_order)
    expected = {e["data"]["deletedAt"] for e in soft_delete_alerts(sim, in_order[0]["subject"].rsplit("/", 1)[1])}
    events = bodies(steps, f"ws-prop-{next(_names)}")  # the same history for another workspace
    name = events[0]["subject"].rsplit("/", 1)[1]
    shuffled = events * 3
    random.Random(seed).shuffle(shuffled)
    deliver(handler, shuffled)
    sweep(datetime.now(timezone.utc) + 3 * timedelta(minutes=1))  # drains the outbox (docs/retention.md)
    sent = soft_delete_alert_ids(sim, name)
    assert set(sent.values()) <= {1}, sent  # never the same alert twice
    # One alert per deletion period, as in order: a later delete of a period that arrived first and was alerted
    # stands for the period (docs/retention.md, "Alerts once"), so only the count is the in-order one.
    assert len(sent) == len(expected), (sorted(expected), sent)
    sim.control("DELETE", f"topics/{TOPIC}/events")
