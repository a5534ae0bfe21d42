"""One orchestration episode: deliver one new event, replay the orchestrator, turn its new actions into history and work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from local.devhost import durable_history as h

OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


def new_engine_state(execution: int = 1) -> dict:
    """The engine bookkeeping kept beside the history (persisted in the same transaction)."""
    return {"execution": execution, "episode": 0, "nextId": 0, "cursor": 0, "leafIds": [], "tasks": {},
            "retries": {}, "waiting": {}, "buffer": [], "inbox": []}


@dataclass
class Outcome:
    status: str  # Completed | Failed | ContinuedAsNew
    output: str | None = None  # JSON text (Completed), message (Failed), next input (ContinuedAsNew)
    details: str | None = None


@dataclass
class EpisodePlan:
    """What an episode produced: events to append after the delivered one, task ids to dispatch, an outcome."""

    events: list[dict] = field(default_factory=list)
    dispatch: list[int] = field(default_factory=list)
    cancel: list[int] = field(default_factory=list)
    outcome: Outcome | None = None
    custom_status: str | None = None


def parse_orchestrator_failure(error: BaseException) -> tuple[str, dict | None]:
    """Split the SDK's `<message>\\n\\n$OutOfProcData$:<state json>` failure form into (error, state)."""
    text = str(error)
    if OUT_OF_PROC_MARKER in text:
        message, _, tail = text.partition(OUT_OF_PROC_MARKER)
        try:
            state = json.loads(tail)
        except json.JSONDecodeError:
            return message, None
        return state.get("error") or message, state
    return text or type(error).__name__, None


class EpisodePlanner:
    """Mirrors the SDK's task-id allocation on the engine bookkeeping (`engine`, mutated in place)."""

    def __init__(self, engine: dict, instance_id: str, now: datetime) -> None:
        self.engine, self.instance_id, self.now = engine, instance_id, now
        self.plan = EpisodePlan()

    def _allocate(self) -> int:
        task_id = self.engine["nextId"]
        self.engine["nextId"] += 1
        return task_id

    def before_replay(self, delivered: dict) -> None:
        """Retry bookkeeping the SDK does while it processes the delivered event (before user code resumes)."""
        kind = delivered["EventType"]
        if kind in (h.TASK_FAILED, h.SUB_ORCHESTRATION_FAILED):
            task = self.engine["tasks"].get(str(delivered["TaskScheduledId"]))
            if task and task.get("retry"):
                retry = self.engine["retries"][task["retry"]]
                fire_at = self.now + timedelta(milliseconds=retry["intervalMs"])
                self._timer(fire_at, retry=task["retry"])
        elif kind == h.TIMER_FIRED:
            task = self.engine["tasks"].get(str(delivered["TimerId"]))
            if task and task.get("retry"):
                retry = self.engine["retries"][task["retry"]]
                if retry["attempts"] < retry["max"]:
                    retry["attempts"] += 1
                    self._schedule_call(retry["kind"], retry["name"], retry["input"], task["retry"],
                                        retry.get("instanceId"))

    def after_replay(self, state: dict | None, error: str | None, details: str | None = None) -> EpisodePlan:
        """Turn the orchestrator's answer (state JSON, or the failure) into new history, work and an outcome."""
        if state is not None:
            if state.get("customStatus") is not None:
                self.plan.custom_status = json.dumps(state["customStatus"])
        if state is not None and error is None:
            leaves = h.flat_actions(state)
            self._cancelled_timers(leaves)
            continue_as_new = None
            for leaf in leaves[self.engine["cursor"]:]:
                result = self._new_action(leaf)
                if result is not None:
                    continue_as_new = result
            self.engine["cursor"] = len(leaves)
            if state.get("isDone"):
                if continue_as_new is not None:
                    self.plan.outcome = Outcome("ContinuedAsNew", continue_as_new)
                else:
                    output = json.dumps(state["output"]) if "output" in state else None
                    self.plan.outcome = Outcome("Completed", output)
        if error is not None:
            self.plan.outcome = Outcome("Failed", error, details)
        return self.plan

    def _new_action(self, leaf: dict) -> str | None:
        kind = leaf.get("actionType")
        leaf_ids = self.engine["leafIds"]
        if kind in (h.CALL_ACTIVITY, h.CALL_ACTIVITY_WITH_RETRY, h.CALL_SUB_ORCHESTRATOR,
                    h.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            retry = None
            call_kind = "activity" if kind in (h.CALL_ACTIVITY, h.CALL_ACTIVITY_WITH_RETRY) else "suborch"
            if kind in (h.CALL_ACTIVITY_WITH_RETRY, h.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
                options = leaf.get("retryOptions") or {}
                retry = f"r{self.engine['nextId']}"
                self.engine["retries"][retry] = {
                    "kind": call_kind, "name": leaf["functionName"], "input": leaf.get("input"), "attempts": 1,
                    "max": int(options.get("maxNumberOfAttempts") or 1),
                    "intervalMs": int(options.get("firstRetryIntervalInMilliseconds") or 0),
                    "instanceId": leaf.get("instanceId")}
            leaf_ids.append(self._schedule_call(call_kind, leaf["functionName"], leaf.get("input"), retry,
                                                leaf.get("instanceId")))
        elif kind == h.CREATE_TIMER:
            leaf_ids.append(self._timer(h.parse_time(leaf["fireAt"])))
        elif kind == h.WAIT_FOR_EXTERNAL_EVENT:
            leaf_ids.append(None)
            name = leaf["externalEventName"]
            self.engine["waiting"][name] = self.engine["waiting"].get(name, 0) + 1
            self.release_buffered(name)
        elif kind == h.CONTINUE_AS_NEW_ACTION:
            leaf_ids.append(self._allocate())
            return leaf.get("input") or "null"
        elif kind in (h.CALL_HTTP, h.CALL_ENTITY):
            task_id = self._allocate()
            leaf_ids.append(task_id)
            what = "call_http" if kind == h.CALL_HTTP else "call_entity"
            self.engine["tasks"][str(task_id)] = {"kind": "unsupported", "name": what, "done": False}
            self.plan.dispatch.append(task_id)
        elif kind == h.SIGNAL_ENTITY:
            leaf_ids.append(self._allocate())  # fire-and-forget; entities are not hosted here
        else:
            raise ValueError(f"action type {kind} is not supported by the dev host")
        return None

    def _schedule_call(self, call_kind: str, name: str, input_json: str | None, retry: str | None,
                       child_id: str | None) -> int:
        task_id = self._allocate()
        task = {"kind": call_kind, "name": name, "input": input_json, "retry": retry, "done": False}
        if call_kind == "activity":
            self.plan.events.append(h.event(h.TASK_SCHEDULED, self.now, event_id=task_id, Name=name, Input=input_json))
        else:
            task["instanceId"] = child_id or f"{self.instance_id}:{task_id}"
            self.plan.events.append(h.event(h.SUB_ORCHESTRATION_CREATED, self.now, event_id=task_id, Name=name,
                                            InstanceId=task["instanceId"], Input=input_json))
        self.engine["tasks"][str(task_id)] = task
        self.plan.dispatch.append(task_id)
        return task_id

    def _timer(self, fire_at: datetime, retry: str | None = None) -> int:
        task_id = self._allocate()
        fire_text = h.timestamp(fire_at)
        self.plan.events.append(h.event(h.TIMER_CREATED, self.now, event_id=task_id, FireAt=fire_text))
        self.engine["tasks"][str(task_id)] = {"kind": "timer", "fireAt": fire_text, "retry": retry, "done": False}
        self.plan.dispatch.append(task_id)
        return task_id

    def _cancelled_timers(self, leaves: list[dict]) -> None:
        for index, leaf in enumerate(leaves[: self.engine["cursor"]]):
            if leaf.get("actionType") == h.CREATE_TIMER and leaf.get("isCanceled"):
                task_id = self.engine["leafIds"][index] if index < len(self.engine["leafIds"]) else None
                if task_id is not None and str(task_id) in self.engine["tasks"]:
                    del self.engine["tasks"][str(task_id)]
                    self.plan.cancel.append(task_id)

    def release_buffered(self, name: str) -> None:
        """Move the oldest buffered event of that name to the inbox if an unanswered waiter exists (FIFO)."""
        release_buffered(self.engine, name)


def release_buffered(engine: dict, name: str) -> bool:
    if engine["waiting"].get(name, 0) <= 0:
        return False
    for index, item in enumerate(engine["buffer"]):
        if item["Name"] == name:
            engine["buffer"].pop(index)
            engine["waiting"][name] -= 1
            engine["inbox"].append(item)
            return True
    return False


def completion_event(task: dict, task_id: int, now: datetime, *, result: str | None = None,
                     reason: str | None = None, details: str | None = None) -> dict:
    """The history event that completes a task (success when reason is None)."""
    if task["kind"] == "timer":
        return h.event(h.TIMER_FIRED, now, TimerId=task_id, FireAt=task["fireAt"])
    sub = task["kind"] == "suborch"
    if reason is None:
        return h.event(h.SUB_ORCHESTRATION_COMPLETED if sub else h.TASK_COMPLETED, now,
                       TaskScheduledId=task_id, Result=result)
    return h.event(h.SUB_ORCHESTRATION_FAILED if sub else h.TASK_FAILED, now,
                   TaskScheduledId=task_id, Reason=reason, Details=details)
