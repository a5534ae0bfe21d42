"""History events in the DTFx shape the Python Durable SDK replays, and the action-list walker."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

# HistoryEventType values (azure.durable_functions.models.history.HistoryEventType)
EXECUTION_STARTED, EXECUTION_COMPLETED, EXECUTION_FAILED, EXECUTION_TERMINATED = 0, 1, 2, 3
TASK_SCHEDULED, TASK_COMPLETED, TASK_FAILED = 4, 5, 6
SUB_ORCHESTRATION_CREATED, SUB_ORCHESTRATION_COMPLETED, SUB_ORCHESTRATION_FAILED = 7, 8, 9
TIMER_CREATED, TIMER_FIRED, ORCHESTRATOR_STARTED, ORCHESTRATOR_COMPLETED = 10, 11, 12, 13
EVENT_SENT, EVENT_RAISED, CONTINUE_AS_NEW = 14, 15, 16

EVENT_NAMES = {
    0: "ExecutionStarted", 1: "ExecutionCompleted", 2: "ExecutionFailed", 3: "ExecutionTerminated",
    4: "TaskScheduled", 5: "TaskCompleted", 6: "TaskFailed", 7: "SubOrchestrationInstanceCreated",
    8: "SubOrchestrationInstanceCompleted", 9: "SubOrchestrationInstanceFailed", 10: "TimerCreated",
    11: "TimerFired", 12: "OrchestratorStarted", 13: "OrchestratorCompleted", 14: "EventSent", 15: "EventRaised",
    16: "ContinueAsNew", 17: "GenericEvent", 18: "HistoryState", 19: "ExecutionSuspended", 20: "ExecutionResumed",
}

# ActionType values (azure.durable_functions.models.actions.ActionType)
CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY, CALL_SUB_ORCHESTRATOR, CALL_SUB_ORCHESTRATOR_WITH_RETRY = 0, 1, 2, 3
CONTINUE_AS_NEW_ACTION, CREATE_TIMER, WAIT_FOR_EXTERNAL_EVENT, CALL_ENTITY, CALL_HTTP, SIGNAL_ENTITY = 4, 5, 6, 7, 8, 9
WHEN_ANY, WHEN_ALL = 11, 12


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(moment: datetime) -> str:
    """ISO 8601 with microseconds and a literal Z (the SDK needs an explicit zone)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def event(event_type: int, moment: datetime, *, event_id: int = -1, **fields: Any) -> dict:
    """A history event with the four fields the SDK requires on every event."""
    return {"EventType": event_type, "EventId": event_id, "IsPlayed": False, "Timestamp": timestamp(moment), **fields}


def orchestrator_started(moment: datetime) -> dict:
    return event(ORCHESTRATOR_STARTED, moment)


def orchestrator_completed(moment: datetime) -> dict:
    return event(ORCHESTRATOR_COMPLETED, moment)


def execution_started(moment: datetime, name: str, input_json: str | None, instance_id: str, execution_id: str,
                      parent_instance_id: str | None, version: str | None = None) -> dict:
    return event(EXECUTION_STARTED, moment, Name=name, Version=version, Input=input_json,
                 OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
                 ParentInstance=parent_instance_id)


def iter_leaves(actions: list) -> Iterator[dict]:
    """Depth-first leaf actions of a V2/V3 action list, in the order the SDK numbers them."""
    for action in actions:
        if isinstance(action, list):
            yield from iter_leaves(action)
        elif action.get("actionType") in (WHEN_ALL, WHEN_ANY):
            yield from iter_leaves(action.get("compoundActions") or [])
        else:
            yield action


def flat_actions(state: dict) -> list[dict]:
    actions = state.get("actions") or []
    return list(iter_leaves(actions))


def public_history(history: list[dict], show_output: bool) -> list[dict]:
    """The status API's `historyEvents`: orchestrator episode markers dropped, event types named."""
    names: dict[int, str] = {}
    shown = []
    for item in history:
        kind = item["EventType"]
        if kind in (ORCHESTRATOR_STARTED, ORCHESTRATOR_COMPLETED):
            continue
        entry: dict[str, Any] = {"EventType": EVENT_NAMES.get(kind, str(kind)), "Timestamp": item["Timestamp"]}
        if kind in (TASK_SCHEDULED, SUB_ORCHESTRATION_CREATED):
            names[item["EventId"]] = item.get("Name")
            continue  # the real API folds scheduling into the completion row
        if kind in (EXECUTION_STARTED, EXECUTION_COMPLETED, EVENT_RAISED):
            entry["FunctionName" if kind != EVENT_RAISED else "Name"] = item.get("Name")
        if kind in (TASK_COMPLETED, TASK_FAILED, SUB_ORCHESTRATION_COMPLETED, SUB_ORCHESTRATION_FAILED):
            entry["FunctionName"] = names.get(item.get("TaskScheduledId"))
            entry["TaskScheduledId"] = item.get("TaskScheduledId")
        if kind in (TIMER_CREATED, TIMER_FIRED):
            entry["FireAt"] = item.get("FireAt")
        if kind == EXECUTION_COMPLETED:
            entry["OrchestrationStatus"] = item.get("OrchestrationStatus")
        if kind in (TASK_FAILED, SUB_ORCHESTRATION_FAILED):
            entry["Reason"], entry["Details"] = item.get("Reason"), item.get("Details")
        if show_output:
            for source, target in (("Input", "Input"), ("Result", "Result")):
                if item.get(source) is not None:
                    entry[target] = item[source]
        shown.append(entry)
    return shown
