"""One SoftDeleted alert per deletion period whatever instance gets which delivery, in whatever order; an Expired
alert for a delete that arrived after its window closed (through the real function and the simulator's topic)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import ws_id
from tests.retention.conftest import delivered, event_body, sweep, topic_events

ROOT = Path(__file__).resolve().parents[2]
HOUR = timedelta(hours=1)

# One delivery in a process of its own: a fresh instance of the app (no memory of what another one handled).
ONE_INSTANCE = """
import json, sys
import function_app
from tests.retention.conftest import delivered
functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
functions["workspace_events"].get_user_function()(delivered(json.loads(sys.stdin.read())))
"""


def alerts_about(sim, name: str, kind: str) -> list[dict]:
    return [e for e in topic_events(sim) if e["subject"] == ws_id(name) and e["type"] == f"AmlLifecycle.{kind}"]


def test_the_same_fresh_delete_delivered_to_two_processes_sends_one_soft_deleted_alert(topic_env, sim):
    body = event_body("delete", "ws-twice", at=datetime.now(timezone.utc) - timedelta(seconds=5), event_id="twice-1")
    env = {**os.environ, **topic_env}
    instances = [subprocess.Popen([sys.executable, "-c", ONE_INSTANCE], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for instance in instances:  # both at once: Event Grid's retry may overlap the first delivery still running
        instance.stdin.write(json.dumps(body))
        instance.stdin.close()
    for instance in instances:
        assert instance.wait(timeout=120) == 0, instance.stderr.read()
    assert len(alerts_about(sim, "ws-twice", "Workspace.SoftDeleted")) == 1
    # and a third, later instance (a redelivery after the first answered too slowly) sends nothing either
    subprocess.run([sys.executable, "-c", ONE_INSTANCE], cwd=ROOT, env=env, input=json.dumps(body), text=True,
                   check=True, capture_output=True, timeout=120)
    assert len(alerts_about(sim, "ws-twice", "Workspace.SoftDeleted")) == 1


@pytest.mark.parametrize("fresh_instance_each_time", [False, True])
def test_delete_write_then_an_earlier_delete_of_the_same_period_sends_one_alert(functions, topic_env, sim,
                                                                                  fresh_instance_each_time):
    from shared.retention.ingest import forget_recent

    handler = functions["workspace_events"].get_user_function()
    t = datetime.now(timezone.utc).replace(microsecond=0) - 3 * HOUR
    for kind, at in (("delete", t), ("write", t + HOUR), ("delete", t - HOUR)):
        if fresh_instance_each_time:
            forget_recent()
        handler(delivered(event_body(kind, "ws-order", at=at)))
    [alert] = alerts_about(sim, "ws-order", "Workspace.SoftDeleted")  # the period T-1h..T+1h was alerted at T
    # The sweep owes nothing more for that period either.
    sweep(datetime.now(timezone.utc) + 5 * timedelta(minutes=1))
    assert alerts_about(sim, "ws-order", "Workspace.SoftDeleted") == [alert]


def test_a_later_delete_of_the_same_period_alerted_first_stands_for_it(functions, topic_env, sim):
    handler = functions["workspace_events"].get_user_function()
    t = datetime.now(timezone.utc).replace(microsecond=0) - 3 * HOUR
    handler(delivered(event_body("delete", "ws-first", at=t)))
    handler(delivered(event_body("delete", "ws-first", at=t - HOUR)))  # earlier delete, same deletion period
    assert len(alerts_about(sim, "ws-first", "Workspace.SoftDeleted")) == 1


def test_a_delete_that_arrives_after_its_window_closed_sends_one_expired_alert(functions, topic_env, sim):
    handler = functions["workspace_events"].get_user_function()
    now = datetime.now(timezone.utc)
    body = event_body("delete", "ws-late", at=now - timedelta(days=15))
    handler(delivered(body))
    assert alerts_about(sim, "ws-late", "Workspace.SoftDeleted") == []  # its window is over: nothing to recover
    sweep(now + 5 * timedelta(minutes=1))
    handler(delivered(body))  # redelivered, then another sweep
    sweep(now + 70 * timedelta(minutes=1))
    [expired] = alerts_about(sim, "ws-late", "Retention.Expired")
    assert expired["data"]["workspaceId"] == ws_id("ws-late")
