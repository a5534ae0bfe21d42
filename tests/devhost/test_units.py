"""Dev host pieces in-process: route templates, schedules, settings, and the durable engine on the memory store."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timezone

import pytest

from local.devhost import settings
from local.devhost.app_loader import FunctionIndex, IndexedFunction
from local.devhost.durable_engine import DurableEngine, InstanceExistsError, InstanceNotTerminalError
from local.devhost.durable_store import InstanceQuery, MemoryDurableStore, TableDurableStore
from local.devhost.http_routes import HttpRouter, RouteTemplate
from local.devhost.timers import Schedule, TimerScheduler


@pytest.mark.parametrize("template, path, expected", [
    ("retention/{subscriptionId}/{resourceGroup}/{workspaceName}", "retention/s/rg/ws",
     {"subscriptionId": "s", "resourceGroup": "rg", "workspaceName": "ws"}),
    ("retention/{subscriptionId}/{resourceGroup}/{workspaceName}", "retention/s/rg", None),
    ("moves/{moveId}", "MOVES/abc/", {"moveId": "abc"}),
    ("items/{id:int}", "items/12", {"id": "12"}),
    ("items/{id:int}", "items/x", None),
    ("items/{id?}", "items", {}),
    ("files/{*path}", "files/a/b/c.txt", {"path": "a/b/c.txt"}),
    ("report.{format}", "report.json", {"format": "json"}),
    ("page/{n=1}", "page", {"n": "1"}),
])
def test_route_templates(template: str, path: str, expected: dict | None) -> None:
    assert RouteTemplate.parse(template).match(path) == expected


def _http(name: str, route: str, methods: list[str] | None = None) -> IndexedFunction:
    trigger = {"type": "httpTrigger", "name": "req", "route": route, "methods": methods, "authLevel": "FUNCTION"}
    return IndexedFunction(name, trigger, [trigger], lambda req: None)


def test_router_prefers_literal_segments_and_checks_methods() -> None:
    router = HttpRouter([_http("by_id", "moves/{moveId}", ["GET"]), _http("validate", "moves/validate", ["POST"])])
    assert router.find("POST", "/moves/validate")[0].function.name == "validate"
    assert router.find("GET", "/moves/validate")[0].function.name == "by_id"
    assert router.find("DELETE", "/moves/1") is None


def test_ncrontab_has_seconds_first_and_timespans() -> None:
    start = datetime(2024, 1, 1, 2, 59, 58, tzinfo=timezone.utc)
    assert Schedule("0 0 3 * * *").next_after(start) == datetime(2024, 1, 1, 3, 0, 0, tzinfo=timezone.utc)
    assert Schedule("*/15 * * * * *").next_after(start) == datetime(2024, 1, 1, 3, 0, 0, tzinfo=timezone.utc)
    assert Schedule("00:05:00").next_after(start) == datetime(2024, 1, 1, 3, 4, 58, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        Schedule("0 3 * * *")


def test_settings_do_not_override_the_environment(tmp_path) -> None:
    file = tmp_path / "local.settings.json"
    file.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "from-file", "B": "from-file", "N": None}}))
    environ = {"A": "from-env"}
    assert settings.apply_to_environment(settings.load_settings_file(file), environ) == ["B", "N"]
    assert environ == {"A": "from-env", "B": "from-file", "N": ""}
    assert settings.FunctionKey.from_environment({"AML_LIFECYCLE_DEV_FUNCTION_KEY": "k"}).value == "k"
    generated = settings.FunctionKey.from_environment({})
    assert generated.generated and len(generated.value) >= 32 and not generated.matches(None)
    assert settings.task_hub_name({"extensions": {"durableTask": {"hubName": "%HUB%"}}}, {"HUB": "Mine"}) == "Mine"
    assert settings.route_prefix({"extensions": {"http": {"routePrefix": ""}}}) == ""


@pytest.fixture(scope="module")
def index() -> FunctionIndex:
    from local.devhost.app_loader import import_app, index_app
    from tests.devhost import sample_app

    assert import_app("tests.devhost.sample_app:app") is sample_app.app
    return index_app(sample_app.app)


@pytest.fixture
async def engine(index: FunctionIndex, tmp_path, monkeypatch):
    monkeypatch.setenv("SAMPLE_RECORD_DIR", str(tmp_path))
    running = DurableEngine(index, MemoryDurableStore())
    await running.open()
    yield running
    await running.close()


async def test_engine_runs_orchestrations_without_http(engine: DurableEngine) -> None:
    instance_id = await engine.start("hello_sequence", "engine")
    status = await engine.wait_for(instance_id, timeout=10)
    assert status["runtimeStatus"] == "Completed" and status["output"]["first"] == "Hello engine"

    waiting = await engine.start("approval", instance_id="fixed")
    await engine.wait_for(waiting, lambda s: s["customStatus"] == "waiting", timeout=5)
    with pytest.raises(InstanceExistsError):
        await engine.start("approval", instance_id="fixed")
    with pytest.raises(InstanceNotTerminalError):
        await engine.purge("fixed")
    await engine.raise_event("fixed", "Approval", json.dumps(1))
    await engine.raise_event("fixed", "Approval", json.dumps(2))  # buffered: nobody waits any more
    assert (await engine.wait_for("fixed", timeout=5))["output"] == {"decision": 1}
    assert [s["instanceId"] for s in await engine.list_status(InstanceQuery(prefix="fix"))] == ["fixed"]
    with pytest.raises(ValueError):
        await engine.start("no_such_orchestrator")


async def test_engine_wait_for_times_out_with_the_last_status(engine: DurableEngine) -> None:
    instance_id = await engine.start("approval")
    with pytest.raises(TimeoutError, match="Running"):
        await engine.wait_for(instance_id, timeout=0.3)
    await engine.terminate(instance_id, "done")
    assert (await engine.wait_for(instance_id, timeout=5))["runtimeStatus"] == "Terminated"


async def test_engine_on_table_storage_survives_a_new_engine(index: FunctionIndex, storage: str, tmp_path,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("SAMPLE_RECORD_DIR", str(tmp_path))
    hub = f"Unit{uuid.uuid4().hex[:8]}"
    first = DurableEngine(index, TableDurableStore(storage, hub))
    await first.open()
    instance_id = await first.start("approval")
    await first.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running", timeout=10)
    await first.close()

    second = DurableEngine(index, TableDurableStore(storage, hub))
    await second.open()
    try:
        await second.raise_event(instance_id, "Approval", json.dumps("after restart"))
        status = await second.wait_for(instance_id, timeout=10)
        assert status["output"] == {"decision": "after restart"}
        history = (await second.status(instance_id, show_history=True))["historyEvents"]
        assert [e["EventType"] for e in history] == ["ExecutionStarted", "EventRaised", "ExecutionCompleted"]
    finally:
        await second.close()


async def test_engine_when_any_with_a_cancelled_timer(engine: DurableEngine) -> None:
    approved = await engine.start("approval_with_timeout", 30)
    await engine.wait_for(approved, lambda s: s["runtimeStatus"] == "Running", timeout=5)
    await engine.raise_event(approved, "Approval", json.dumps("ok"))
    assert (await engine.wait_for(approved, timeout=5))["output"] == {"approved": "ok"}
    timed_out = await engine.start("approval_with_timeout", 0.2)
    assert (await engine.wait_for(timed_out, timeout=5))["output"] == "timed out"


async def test_timer_scheduler_runs_on_startup_and_on_schedule() -> None:
    calls: list = []
    trigger = {"type": "timerTrigger", "name": "timer", "schedule": "* * * * * *", "runOnStartup": True}
    function = IndexedFunction("every_second", trigger, [trigger], lambda timer: None)

    async def call(target: IndexedFunction, kwargs: dict) -> None:
        calls.append(kwargs["timer"])

    scheduler = TimerScheduler([function], call)
    scheduler.start()
    try:
        for _ in range(100):
            if len(calls) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await scheduler.stop()
    assert len(calls) >= 2
    assert calls[0].past_due is False and {"Last", "Next", "LastUpdated"} <= set(calls[1].schedule_status)
