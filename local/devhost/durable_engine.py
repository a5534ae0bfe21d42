"""In-process Durable Functions engine: runs real azure-functions-durable orchestrators against persisted history."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import traceback
import uuid
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from azure.functions._durable_functions import OrchestrationContext

from local.devhost import durable_history as h
from local.devhost.app_loader import FunctionIndex
from local.devhost.durable_episode import (
    EpisodePlanner,
    completion_event,
    new_engine_state,
    parse_orchestrator_failure,
    release_buffered,
)
from local.devhost.durable_status import status_payload
from local.devhost.durable_store import DurableStore, InstanceData, InstanceQuery, InstanceRecord
from local.devhost.durable_work import WorkRunners

log = logging.getLogger("devhost.durable")
RUNNING_STATES = ("Pending", "Running", "Suspended", "ContinuedAsNew")


class InstanceExistsError(Exception):
    """Starting an instance id that is still Pending/Running (the extension answers 409)."""


class InstanceNotFoundError(KeyError):
    """No instance with that id."""


class InstanceGoneError(Exception):
    """The instance is already in a terminal state (the extension answers 410)."""


class InstanceNotTerminalError(Exception):
    """Purging an instance that is still running (the extension answers 412)."""


@dataclass
class _Live:
    data: InstanceData
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    runner: asyncio.Task | None = None
    work: dict[int, asyncio.Task] = field(default_factory=dict)


class DurableEngine(WorkRunners):
    """Owns orchestration instances: start, deliver completions one per episode, persist, resume after restart."""

    def __init__(self, index: FunctionIndex, store: DurableStore, *, executor: Executor | None = None,
                 hub_name: str = "TestHubName", clock: Callable[[], datetime] = h.utcnow,
                 retry_delay: float = 1.0) -> None:
        self.index, self.store, self.executor = index, store, executor
        self.hub_name, self.clock, self.retry_delay = hub_name, clock, retry_delay
        self._live: dict[str, _Live] = {}
        self._create_lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._generation = 0
        self._closed = False

    # ---- lifecycle -------------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the store and resume every instance that was Pending or Running (pending work is re-dispatched)."""
        await self.store.open()
        for record in await self.store.query(InstanceQuery(statuses=RUNNING_STATES)):
            data = await self.store.load(record.instance_id)
            if data is None:
                continue
            live = self._live[record.instance_id] = _Live(data)
            pending = [int(k) for k, task in data.engine["tasks"].items() if not task.get("done")]
            log.info("resuming %s (%s): %d pending task(s), %d queued event(s)", record.instance_id,
                     record.name, len(pending), len(data.engine["inbox"]))
            for task_id in pending:
                self._dispatch(live, task_id)
            self._kick(live)

    async def close(self) -> None:
        """Stop work in flight (it resumes on the next open) and close the store."""
        self._closed = True
        tasks = [t for live in self._live.values() for t in [*live.work.values(), live.runner] if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._live.clear()
        await self.store.close()

    # ---- client operations -----------------------------------------------------------------------------------

    async def start(self, name: str, input: Any = None, *, instance_id: str | None = None) -> str:
        """Start an orchestration with a Python input value; returns the instance id."""
        return await self.start_json(name, None if input is None else json.dumps(input), instance_id=instance_id)

    async def start_json(self, name: str, input_json: str | None, *, instance_id: str | None = None,
                         version: str | None = None, parent: dict | None = None) -> str:
        """Start an orchestration whose input is JSON text (what the client API sends)."""
        if name not in self.index.orchestrators:
            raise ValueError(f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        instance_id = instance_id or uuid.uuid4().hex
        async with self._create_lock:
            current = self._live.get(instance_id)
            record = current.data.record if current else await self.store.get_record(instance_id)
            if record is not None and record.runtime_status in RUNNING_STATES:
                raise InstanceExistsError(
                    f"An Orchestration instance with the status {record.runtime_status} already exists.")
            if record is not None:
                await self.store.delete(instance_id)
            now = self.clock()
            execution_id = uuid.uuid4().hex
            record = InstanceRecord(instance_id, self.index.orchestrators[name].name, "Pending", now, now,
                                    input=input_json, execution_id=execution_id, version=version,
                                    parent_instance_id=(parent or {}).get("instanceId"))
            engine = new_engine_state()
            engine["parent"] = parent
            engine["inbox"].append(h.execution_started(now, name, input_json, instance_id, execution_id,
                                                       record.parent_instance_id, version))
            await self.store.save(record, engine, [])
            live = self._live[instance_id] = _Live(InstanceData(record, engine, []))
        await self._notify()
        self._kick(live)
        return instance_id

    async def get_record(self, instance_id: str) -> InstanceRecord | None:
        live = self._live.get(instance_id)
        return copy.deepcopy(live.data.record) if live else await self.store.get_record(instance_id)

    async def status(self, instance_id: str, *, show_history: bool = False, show_history_output: bool = False,
                     show_input: bool = True) -> dict | None:
        """The client status JSON (as the HTTP API returns it), or None if there is no such instance."""
        live = self._live.get(instance_id)
        if live is not None and not show_history:
            return status_payload(live.data.record, show_input=show_input)
        data = copy.deepcopy(live.data) if live else await self.store.load(instance_id)
        if data is None:
            record = await self.store.get_record(instance_id)
            return status_payload(record, show_input=show_input) if record else None
        return status_payload(data.record, show_input=show_input, history=data.history if show_history else None,
                              show_history_output=show_history_output)

    async def list_status(self, query: InstanceQuery, *, show_input: bool = True) -> list[dict]:
        return [status_payload(r, show_input=show_input) for r in await self.store.query(query)]

    async def raise_event(self, instance_id: str, name: str, data_json: str | None) -> None:
        """Queue an external event; it is delivered when the orchestrator waits for that name (FIFO per name)."""
        live = await self._running(instance_id)
        async with live.lock:
            self._ensure_running(live)
            engine = copy.deepcopy(live.data.engine)
            engine["buffer"].append(h.event(h.EVENT_RAISED, self.clock(), Name=name, Input=data_json))
            release_buffered(engine, name)
            await self.store.save(live.data.record, engine, [])
            live.data.engine = engine
        self._kick(live)

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        live = await self._running(instance_id)
        async with live.lock:
            self._ensure_running(live)
            now = self.clock()
            events = [h.orchestrator_started(now), h.event(h.EXECUTION_TERMINATED, now, Input=json.dumps(reason)),
                      h.event(h.EXECUTION_COMPLETED, now, OrchestrationStatus="Terminated", Result=json.dumps(reason)),
                      h.orchestrator_completed(now)]
            await self._commit(live, copy.deepcopy(live.data.engine), events, "Terminated", json.dumps(reason), now)
        await self._finished(live, failure=f"Orchestration was terminated: {reason}")

    async def purge(self, instance_id: str) -> int:
        record = await self.get_record(instance_id)
        if record is None:
            return 0
        if not record.is_terminal:
            raise InstanceNotTerminalError(
                f"Only orchestrations in a terminal state can be purged, but the orchestration with instance ID "
                f"{instance_id} has status {record.runtime_status}")
        return int(await self.store.delete(instance_id))

    async def purge_by(self, query: InstanceQuery) -> int:
        """Purge terminal instances matching the query (running ones are never purged here)."""
        count = 0
        for record in await self.store.query(query):
            if record.is_terminal and instance_not_live(self._live, record.instance_id):
                count += int(await self.store.delete(record.instance_id))
        return count

    async def wait_for(self, instance_id: str, predicate: Callable[[dict | None], bool] | None = None,
                       timeout: float = 30.0) -> dict | None:
        """Wait until predicate(status) holds (default: a terminal state); TimeoutError with the last status."""
        predicate = predicate or (lambda s: s is not None and s["runtimeStatus"] not in RUNNING_STATES)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            generation = self._generation
            status = await self.status(instance_id)
            if predicate(status):
                return status
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"instance {instance_id}: condition not met within {timeout}s; last: {status}")
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: self._generation != generation),
                                           min(remaining, 1.0))
                except asyncio.TimeoutError:
                    pass

    # ---- episodes --------------------------------------------------------------------------------------------

    def _kick(self, live: _Live) -> None:
        if not self._closed and (live.runner is None or live.runner.done()):
            live.runner = asyncio.create_task(self._drain(live))

    async def _drain(self, live: _Live) -> None:
        while True:
            async with live.lock:
                if live.data.record.is_terminal or not live.data.engine["inbox"]:
                    return
                try:
                    outcome = await self._episode(live)
                except asyncio.CancelledError:
                    raise
                except Exception:  # storage trouble: keep the event queued and try again shortly
                    log.exception("episode of %s failed; retrying in %ss", live.data.record.instance_id,
                                  self.retry_delay)
                    asyncio.get_running_loop().call_later(self.retry_delay, self._kick, live)
                    return
            if outcome is not None:
                await self._finished(live, failure=outcome)
                return

    async def _episode(self, live: _Live) -> str | None:
        """Deliver the next inbox event; returns a parent failure message on a terminal outcome ('' if success)."""
        data, record = live.data, copy.deepcopy(live.data.record)
        engine = copy.deepcopy(data.engine)
        delivered = engine["inbox"].pop(0)
        now = self.clock()
        planner = EpisodePlanner(engine, record.instance_id, now)
        planner.before_replay(delivered)
        completed_id = delivered.get("TaskScheduledId", delivered.get("TimerId"))
        if completed_id is not None:
            engine["tasks"].pop(str(completed_id), None)
        started = h.orchestrator_started(now)
        state, error, details = await self._replay(record, data, [started, delivered])
        plan = planner.after_replay(state, error, details)
        events = [started, delivered, *plan.events]
        if plan.custom_status is not None:
            record.custom_status = plan.custom_status
        outcome, status, output = plan.outcome, "Running", None
        if outcome is not None and outcome.status == "ContinuedAsNew":
            await self._continue_as_new(live, record, engine, outcome.output, now)
            return None
        if outcome is not None and outcome.status == "Completed":
            status, output = "Completed", outcome.output
            events.append(h.event(h.EXECUTION_COMPLETED, now, OrchestrationStatus=status, Result=output))
        elif outcome is not None:
            message = f"Orchestrator function '{record.name}' failed: {outcome.output}"
            status, output = "Failed", json.dumps(message)
            events.append(h.event(h.EXECUTION_COMPLETED, now, OrchestrationStatus=status, Result=output,
                                  FailureDetails={"ErrorMessage": message, "Details": outcome.details}))
        events.append(h.orchestrator_completed(now))
        await self._commit(live, engine, events, status, output, now, record)
        for task_id in plan.cancel:
            self._cancel(live, task_id)
        if status == "Running":
            for task_id in plan.dispatch:
                self._dispatch(live, task_id)
            return None
        return "" if status == "Completed" else json.loads(output)

    async def _replay(self, record: InstanceRecord, data: InstanceData,
                      new_events: list[dict]) -> tuple[dict | None, str | None, str | None]:
        function = self.index.orchestrators.get(record.name)
        if function is None:
            return None, f"The orchestrator function '{record.name}' is not in this app.", None
        context = {"history": data.history + new_events, "input": record.input, "instanceId": record.instance_id,
                   "isReplaying": bool(data.episodes), "parentInstanceId": record.parent_instance_id,
                   "upperSchemaVersion": 1, "upperSchemaVersionNew": 2}
        body = OrchestrationContext(json.dumps(context))
        try:
            answer = await asyncio.get_running_loop().run_in_executor(self.executor, function.function, body)
            return json.loads(answer), None, None
        except Exception as exc:  # the SDK raises with the $OutOfProcData$ state on user failures
            error, state = parse_orchestrator_failure(exc)
            cause = exc.__cause__ or exc
            return state, error, "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))

    async def _commit(self, live: _Live, engine: dict, events: list[dict], status: str, output: str | None,
                      now: datetime, record: InstanceRecord | None = None) -> None:
        record = copy.deepcopy(record or live.data.record)
        record.runtime_status, record.last_updated_time = status, now
        if status != "Running":
            record.output = output
        episode = engine["episode"]
        engine["episode"] += 1
        await self.store.save(record, engine, [(engine["execution"], episode, events)])
        live.data = InstanceData(record, engine, [*live.data.episodes, events])
        await self._notify()

    async def _continue_as_new(self, live: _Live, record: InstanceRecord, engine: dict, input_json: str,
                               now: datetime) -> None:
        fresh = new_engine_state(engine["execution"] + 1)
        fresh["parent"], fresh["buffer"] = engine.get("parent"), engine["buffer"]
        record.input, record.runtime_status, record.last_updated_time = input_json, "Running", now
        fresh["inbox"].append(h.execution_started(now, record.name, input_json, record.instance_id,
                                                  record.execution_id, record.parent_instance_id, record.version))
        await self.store.save(record, fresh, [])
        await self.store.delete_history_before(record.instance_id, fresh["execution"])
        for task_id in list(live.work):
            self._cancel(live, task_id)
        live.data = InstanceData(record, fresh, [])
        await self._notify()

    async def _finished(self, live: _Live, failure: str | None) -> None:
        """Terminal: stop the instance's work, tell a parent orchestration, and drop it from memory."""
        for task_id in list(live.work):
            self._cancel(live, task_id)
        record, parent = live.data.record, live.data.engine.get("parent")
        self._live.pop(record.instance_id, None)
        if parent:
            if record.runtime_status == "Completed":
                await self._complete(parent["instanceId"], parent["execution"], parent["taskId"], result=record.output)
            else:
                await self._complete(parent["instanceId"], parent["execution"], parent["taskId"],
                                     reason=failure or f"Sub-orchestration {record.instance_id} {record.runtime_status}",
                                     details=None)

    async def _notify(self) -> None:
        async with self._changed:
            self._generation += 1
            self._changed.notify_all()

    async def _running(self, instance_id: str) -> _Live:
        live = self._live.get(instance_id)
        if live is not None:
            return live
        if await self.store.get_record(instance_id) is None:
            raise InstanceNotFoundError(instance_id)
        raise InstanceGoneError(instance_id)

    @staticmethod
    def _ensure_running(live: _Live) -> None:
        if live.data.record.is_terminal:
            raise InstanceGoneError(live.data.record.instance_id)

    async def _complete(self, instance_id: str, execution: int, task_id: int, *, result: str | None = None,
                        reason: str | None = None, details: str | None = None) -> None:
        """Record a task's completion in the instance's inbox (persisted) and run the next episode."""
        live = self._live.get(instance_id)
        if live is None:
            return
        async with live.lock:
            engine = live.data.engine
            task = engine["tasks"].get(str(task_id))
            if live.data.record.is_terminal or engine["execution"] != execution or not task or task.get("done"):
                return
            engine = copy.deepcopy(engine)
            engine["tasks"][str(task_id)]["done"] = True
            engine["inbox"].append(completion_event(task, task_id, self.clock(), result=result, reason=reason,
                                                    details=details))
            await self.store.save(live.data.record, engine, [])
            live.data.engine = engine
        self._kick(live)


def instance_not_live(live: dict[str, _Live], instance_id: str) -> bool:
    return instance_id not in live
