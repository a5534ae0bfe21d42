"""A small df.DFApp exercising every trigger kind the dev host serves (test fixture)."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

http_bp = df.Blueprint()
events_bp = df.Blueprint()
timers_bp = df.Blueprint()
durable_bp = df.Blueprint()


def _record(kind: str, payload: dict) -> None:
    """Append one JSON line to the record file named by SAMPLE_RECORD_DIR (the tests read it)."""
    directory = Path(os.environ.get("SAMPLE_RECORD_DIR", "."))
    with open(directory / f"{kind}.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps(payload) + "\n")


def _attempts_file(key: str) -> Path:
    return Path(os.environ.get("SAMPLE_RECORD_DIR", ".")) / f"attempts-{key}.txt"


@http_bp.route(route="things/{kind}/{thing_id:int}", methods=["GET", "POST"], auth_level=func.AuthLevel.FUNCTION)
def get_thing(req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "kind": req.route_params.get("kind"),
        "id": req.route_params.get("thing_id"),
        "method": req.method,
        "q": req.params.get("q"),
        "body": req.get_body().decode() or None,
        "header": req.headers.get("x-sample"),
        "url": req.url,
    }
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json", headers={"X-Out": "yes"})


@http_bp.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong", status_code=200)


@events_bp.event_grid_trigger(arg_name="event")
def record_event(event: func.EventGridEvent) -> None:
    if isinstance(event, func.EventGridEvent):
        payload = {"schema": "eventgrid", "id": event.id, "type": event.event_type, "subject": event.subject,
                   "data": event.get_json(), "topic": event.topic}
    else:
        payload = {"schema": "cloudevents", "id": event.id, "type": event.type, "subject": event.subject,
                   "data": event.get_json(), "source": event.source}
    data = payload.get("data") or {}
    if isinstance(data, dict) and data.get("fail"):
        marker = _attempts_file("event-" + str(payload["id"]))
        if not marker.exists():
            marker.write_text("1")
            raise RuntimeError(f"event {payload['id']} marked to fail once")
    _record("events", payload)


@timers_bp.timer_trigger(schedule="0 0 3 * * *", arg_name="timer", run_on_startup=False)
def nightly(timer: func.TimerRequest) -> None:
    _record("timer", {"past_due": timer.past_due, "status": timer.schedule_status})


@durable_bp.route(route="orchestrators/{name}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@durable_bp.durable_client_input(client_name="client")
async def start_orchestration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = await client.start_new(req.route_params["name"], req.params.get("instanceId"), payload)
    return client.create_check_status_response(req, instance_id)


@durable_bp.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    name = context.get_input() or "world"
    first = yield context.call_activity("say_hello", name)
    context.set_custom_status({"step": "timer"})
    yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=300))
    parallel = yield context.task_all([context.call_activity("say_hello", f"{name}-{i}") for i in range(3)])
    return {"first": first, "parallel": parallel}


@durable_bp.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=100, max_number_of_attempts=3)
    result = yield context.call_activity_with_retry("flaky", options, context.get_input())
    return result


@durable_bp.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    yield context.call_activity("explode", "boom")
    return "unreachable"


@durable_bp.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    decision = yield context.wait_for_external_event("Approval")
    return {"decision": decision}


@durable_bp.orchestration_trigger(context_name="context")
def approval_with_timeout(context: df.DurableOrchestrationContext):
    seconds = context.get_input() or 5
    timeout = context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timeout])
    if winner == event:
        timeout.cancel()
        return {"approved": event.result}
    return "timed out"


@durable_bp.orchestration_trigger(context_name="context")
def long_timer(context: df.DurableOrchestrationContext):
    seconds = (context.get_input() or {}).get("seconds", 3)
    yield context.call_activity("say_hello", "before")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    after = yield context.call_activity("say_hello", "after")
    return after


@durable_bp.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    child = yield context.call_sub_orchestrator("hello_sequence", "child")
    return {"child": child}


@durable_bp.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    count = context.get_input() or 0
    if count < 3:
        context.continue_as_new(count + 1)
        return None
    return count


@durable_bp.orchestration_trigger(context_name="context")
def gated(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("wait_for_gate", context.get_input()))


@durable_bp.activity_trigger(input_name="key")
def wait_for_gate(key: str) -> int:
    """Counts its starts, then blocks until the test creates the gate file (or 30 s pass)."""
    marker = _attempts_file(key)
    attempts = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(attempts))
    gate = marker.with_suffix(".gate")
    deadline = time.monotonic() + 30
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return attempts


@durable_bp.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"Hello {name}"


@durable_bp.activity_trigger(input_name="payload")
async def flaky(payload: dict) -> dict:
    marker = _attempts_file(payload["key"])
    attempts = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(attempts))
    if attempts < payload["succeed_on"]:
        raise RuntimeError(f"attempt {attempts} failed")
    return {"attempts": attempts}


@durable_bp.activity_trigger(input_name="message")
def explode(message: str) -> str:
    raise ValueError(f"exploded: {message}")


app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (http_bp, events_bp, timers_bp, durable_bp):
    app.register_functions(blueprint)
