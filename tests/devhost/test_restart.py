"""A dev host killed while an orchestration waits on a durable timer resumes it from Table Storage on restart."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

from tests.devhost.conftest import DevHostUnderTest, launch, poll


def test_restart_resumes_an_orchestration_waiting_on_a_timer(tmp_path: Path, storage: str) -> None:
    hub = f"Restart{uuid.uuid4().hex[:8]}"
    first = DevHostUnderTest(launch(tmp_path, storage, hub), hub, tmp_path)
    try:
        instance_id = first.start("long_timer", {"seconds": 3}).json()["id"]

        def timer_armed() -> list | None:
            reply = first.status(instance_id, showHistory="true")
            history = reply.json().get("historyEvents", []) if reply.status in (200, 202) else []
            return history if any(e["EventType"] == "TimerCreated" for e in history) else None

        history = poll(timer_armed, what="the durable timer to be created")
        fire_at = datetime.fromisoformat(next(e["FireAt"] for e in history if e["EventType"] == "TimerCreated")
                                         .replace("Z", "+00:00"))
    finally:
        first.host.kill()  # a crash: nothing is flushed beyond what each episode already committed

    second = DevHostUnderTest(launch(tmp_path, storage, hub), hub, tmp_path)
    try:
        status = second.wait_status(instance_id, timeout=20)
        assert status["runtimeStatus"] == "Completed"
        assert status["output"] == "Hello after"
        assert datetime.now(timezone.utc) >= fire_at
        events = [e["EventType"] for e in second.status(instance_id, showHistory="true").json()["historyEvents"]]
        assert events == ["ExecutionStarted", "TaskCompleted", "TimerCreated", "TimerFired", "TaskCompleted",
                          "ExecutionCompleted"]
    finally:
        second.host.stop()


def test_restart_reruns_an_activity_that_was_in_flight(tmp_path: Path, storage: str) -> None:
    hub = f"Rerun{uuid.uuid4().hex[:8]}"
    key = uuid.uuid4().hex
    marker = tmp_path / f"attempts-{key}.txt"
    first = DevHostUnderTest(launch(tmp_path, storage, hub), hub, tmp_path)
    try:
        instance_id = first.start("gated", key).json()["id"]
        poll(marker.exists, what="the activity to start")
    finally:
        first.host.kill()

    second = DevHostUnderTest(launch(tmp_path, storage, hub), hub, tmp_path)
    try:
        poll(lambda: marker.read_text() == "2", what="the activity to be re-run after the restart")
        marker.with_suffix(".gate").touch()
        status = second.wait_status(instance_id)
        assert (status["runtimeStatus"], status["output"]) == ("Completed", 2)
    finally:
        second.host.stop()
