"""Work an orchestration schedules: activities (real app functions), durable timers, sub-orchestrations."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from local.devhost import durable_history as h
from local.devhost.invocation import call_function

if TYPE_CHECKING:
    from local.devhost.durable_engine import DurableEngine, _Live

log = logging.getLogger("devhost.durable")


class WorkRunners:
    """Mixin of DurableEngine: starts the work for a scheduled task id and reports its completion."""

    def _dispatch(self: DurableEngine, live: _Live, task_id: int) -> None:
        engine = live.data.engine
        task, execution = engine["tasks"][str(task_id)], engine["execution"]
        instance_id = live.data.record.instance_id
        runner = {"activity": self._run_activity, "timer": self._run_timer, "suborch": self._run_suborchestration,
                  "unsupported": self._run_unsupported}[task["kind"]]
        work = asyncio.create_task(runner(instance_id, execution, task_id, dict(task)))
        live.work[task_id] = work
        work.add_done_callback(lambda _t, tid=task_id: live.work.pop(tid, None))

    def _cancel(self, live: _Live, task_id: int) -> None:
        work = live.work.pop(task_id, None)
        if work is not None:
            work.cancel()

    async def _run_activity(self, instance_id: str, execution: int, task_id: int, task: dict) -> None:
        name = task["name"]
        function = self.index.activities.get(name)
        if function is None:
            await self._complete(instance_id, execution, task_id, reason=(
                f"The function '{name}' doesn't exist, is disabled, or is not an activity function."), details=None)
            return
        try:
            value = ActivityTriggerConverter.decode(meta.Datum(task["input"] or "null", "json"), trigger_metadata={})
            result = await call_function(function.function, {function.trigger_arg: value}, name=function.name,
                                         binding_names={b["name"] for b in function.bindings},
                                         executor=self.executor)
            encoded = ActivityTriggerConverter.encode(result, expected_type=None).value
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("activity %s of %s failed", name, instance_id, exc_info=True)
            await self._complete(instance_id, execution, task_id, reason=f"Activity function '{name}' failed: {exc}",
                                 details=f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
            return
        await self._complete(instance_id, execution, task_id, result=encoded)

    async def _run_timer(self, instance_id: str, execution: int, task_id: int, task: dict) -> None:
        delay = (h.parse_time(task["fireAt"]) - self.clock()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._complete(instance_id, execution, task_id)

    async def _run_unsupported(self, instance_id: str, execution: int, task_id: int, task: dict) -> None:
        await self._complete(instance_id, execution, task_id, reason=f"{task['name']} is not supported by the dev host",
                             details=None)

    async def _run_suborchestration(self, instance_id: str, execution: int, task_id: int, task: dict) -> None:
        child_id = task["instanceId"]
        link = {"instanceId": instance_id, "execution": execution, "taskId": task_id}
        child = self._live.get(child_id)
        data = child.data if child else await self.store.load(child_id)
        if data is not None and data.engine.get("parent") == link:
            if data.record.is_terminal:  # finished while the host was down
                if data.record.runtime_status == "Completed":
                    await self._complete(instance_id, execution, task_id, result=data.record.output)
                else:
                    await self._complete(instance_id, execution, task_id, details=None,
                                         reason=json.loads(data.record.output or "null") or data.record.runtime_status)
            return  # still running: it reports back when it finishes
        try:
            await self.start_json(task["name"], task["input"], instance_id=child_id, parent=link)
        except Exception as exc:  # an id clash (InstanceExistsError) or an unknown orchestrator
            await self._complete(instance_id, execution, task_id, reason=str(exc), details=None)
