"""A small Durable driver for tests: replays the real orchestrator handle over a history it builds, runs each
requested activity at once (real or fake), and fires timers at once on a virtual clock.

The history follows /work/shared/reference/durable-protocol.md: one episode per completion, task ids allocated
in yield order, `call_activity_with_retry` reproduced as attempt → TaskFailed → retry timer → next attempt.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import azure.functions as func

OUT_OF_PROC = "\n\n$OutOfProcData$:"
T0 = datetime(2030, 1, 1, 8, 0, 0, tzinfo=timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _event(kind: int, moment: datetime, event_id: int = -1, **fields: Any) -> dict:
    return {"EventType": kind, "EventId": event_id, "IsPlayed": False, "Timestamp": stamp(moment), **fields}


def leaves(actions: list) -> list[dict]:
    """Flatten the V2/V3 action list (WhenAll / WhenAny wrappers, e.g. around retried calls) into leaf actions."""
    found: list[dict] = []
    for action in actions:
        if isinstance(action, list):
            found.extend(leaves(action))
        elif action.get("actionType") in (11, 12):
            found.extend(leaves(action.get("compoundActions") or []))
        else:
            found.append(action)
    return found


@dataclass
class Run:
    """What happened: the activity calls (every attempt), the timers, the output or the failure, the history."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    timers: list[datetime] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    states: list[dict] = field(default_factory=list)  # the orchestrator's answer after each episode
    output: Any = None
    error: str | None = None
    input_json: str = "null"
    instance_id: str = ""

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class Driver:
    def __init__(
        self,
        handle: Callable[[Any], str],
        activities: dict[str, Callable[[Any], Any]],
        *,
        instance_id: str = "move-test",
        start: datetime = T0,
        max_episodes: int = 5000,
    ) -> None:
        self.handle, self.activities = handle, activities
        self.instance_id, self.clock, self.max_episodes = instance_id, start, max_episodes
        self._next_id = 0

    def context(self, history: list[dict], input_json: str) -> str:
        return json.dumps(
            {
                "history": history,
                "instanceId": self.instance_id,
                "isReplaying": False,
                "parentInstanceId": None,
                "input": input_json,
                "upperSchemaVersion": 1,
                "upperSchemaVersionNew": 2,
            }
        )

    def replay(self, history: list[dict], input_json: str) -> tuple[dict | None, str | None]:
        try:
            return json.loads(self.handle(func.OrchestrationContext(self.context(history, input_json)))), None
        except Exception as exc:
            text = str(exc)
            if OUT_OF_PROC in text:
                message, _, tail = text.partition(OUT_OF_PROC)
                return json.loads(tail), message
            raise

    def run(self, name: str, orchestration_input: Any) -> Run:
        run = Run()
        for _ in self.iterate(name, orchestration_input, run):
            pass
        return run

    def iterate(self, name: str, orchestration_input: Any, run: Run):
        """Drive the orchestration, yielding the virtual clock after each episode that fired a timer, so several
        drivers can take turns in virtual-time order (run_together)."""
        input_json = json.dumps(orchestration_input)
        run.input_json, run.instance_id = input_json, self.instance_id
        history = run.history
        history.append(_event(12, self.clock))
        history.append(
            _event(
                0,
                self.clock,
                Name=name,
                Version=None,
                Input=input_json,
                OrchestrationInstance={"InstanceId": self.instance_id, "ExecutionId": "e1"},
            )
        )
        seen = 0
        for _ in range(self.max_episodes):
            state, error = self.replay(history, input_json)
            run.states.append(state)
            if error is not None:
                run.error = error
                return
            actions = leaves(state.get("actions") or [])
            if state.get("isDone"):
                run.output = state.get("output")
                return
            fresh, seen = actions[seen:], len(actions)
            if not fresh:
                raise AssertionError(f"the orchestrator waits for nothing the driver can deliver: {state}")
            for action in fresh:
                self._perform(action, run)
            if any(action["actionType"] == 5 for action in fresh):
                yield self.clock
        raise AssertionError(f"no end after {self.max_episodes} episodes")

    def _allocate(self) -> int:
        task_id, self._next_id = self._next_id, self._next_id + 1
        return task_id

    def _episode(self, history: list[dict], *events: dict) -> None:
        history.append(_event(12, self.clock))
        history.extend(events)

    def _perform(self, action: dict, run: Run) -> None:
        kind = action["actionType"]
        if kind == 5:
            task_id = self._allocate()
            fire_at = parse_time(action["fireAt"])
            run.history.append(_event(10, self.clock, task_id, FireAt=action["fireAt"]))
            run.timers.append(fire_at)
            self.clock = max(self.clock, fire_at)
            self._episode(run.history, _event(11, self.clock, TimerId=task_id, FireAt=action["fireAt"]))
        elif kind in (0, 1):
            options = action.get("retryOptions") or {}
            attempts = int(options.get("maxNumberOfAttempts") or 1) if kind == 1 else 1
            interval = timedelta(milliseconds=int(options.get("firstRetryIntervalInMilliseconds") or 0))
            for attempt in range(1, attempts + 1):
                task_id = self._allocate()
                run.history.append(_event(4, self.clock, task_id, Name=action["functionName"], Input=action["input"]))
                failed = self._call(action, task_id, run)
                if not failed:
                    return
                if kind == 1:  # the SDK's retry timer follows every failed attempt, the last one included
                    timer_id = self._allocate()
                    self.clock += interval
                    self._episode(run.history, _event(11, self.clock, TimerId=timer_id, FireAt=stamp(self.clock)))
        else:
            raise AssertionError(f"action type {kind} is not used by this orchestrator: {action}")

    def _call(self, action: dict, task_id: int, run: Run) -> bool:
        name = action["functionName"]
        payload = json.loads(action["input"]) if action.get("input") is not None else None
        run.calls.append((name, payload))
        try:
            result = self.activities[name](payload)
        except Exception as exc:
            self._episode(
                run.history,
                _event(
                    6,
                    self.clock,
                    TaskScheduledId=task_id,
                    Reason=f"Activity function '{name}' failed: {exc}",
                    Details="".join(traceback.format_exception_only(type(exc), exc)).strip(),
                ),
            )
            return True
        self._episode(run.history, _event(5, self.clock, TaskScheduledId=task_id, Result=json.dumps(result)))
        return False


def real_activities(functions: dict[str, Any], names: list[str]) -> dict[str, Callable[[Any], Any]]:
    """The app's own activity functions, called the way the worker calls them (keyword = input_name)."""
    table = {}
    for name in names:
        fn = functions[name].get_user_function()
        table[name] = lambda payload, fn=fn: json.loads(json.dumps(fn(payload=payload)))
    return table


def run_together(drivers: list[tuple[Driver, str, Any]]) -> list[Run]:
    """Run several orchestrations at once on one virtual clock: whichever has the earliest pending timer goes next
    (a discrete-event schedule), so their ARM calls interleave in the order real timers would fire them."""
    import heapq

    runs = [Run() for _ in drivers]
    queue = []
    for index, (driver, name, payload) in enumerate(drivers):
        queue.append((driver.clock, index, driver.iterate(name, payload, runs[index])))
    heapq.heapify(queue)
    while queue:
        _, index, steps = heapq.heappop(queue)
        moment = next(steps, None)
        if moment is not None:
            heapq.heappush(queue, (moment, index, steps))
    return runs
