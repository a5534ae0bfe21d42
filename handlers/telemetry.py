"""Telemetry wiring of the app object: Azure Monitor at start, and one span around every invocation."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from shared import telemetry

# Trigger binding type → OpenTelemetry `faas.trigger`. Orchestrators and entities are left alone: their code
# replays, so a span per replay would be noise (the activities they call each get one).
TRIGGERS = {
    "httpTrigger": "http",
    "eventGridTrigger": "pubsub",
    "timerTrigger": "timer",
    "activityTrigger": "other",
}


def instrument(app: Any) -> int:
    """Configure Azure Monitor (only when its connection string is set) and wrap each function in a span.

    Wraps the user function the way the Durable SDK wraps durable-client functions (`_function._func`,
    azure-functions pinned in requirements.txt), keeping its signature, sync/async kind and attributes, so the
    worker and the dev host bind it as before. Call once, after every blueprint is registered. Returns how many
    functions were wrapped.
    """
    telemetry.configure()
    wrapped = 0
    for builder in getattr(app, "_function_builders", ()):
        function = builder._function
        trigger = function.get_trigger()
        kind = TRIGGERS.get(trigger.get_binding_name() if trigger is not None else "")
        if kind is None or getattr(function._func, "_aml_traced", False):
            continue
        function._func = _traced(function._func, function.get_function_name(), kind)
        wrapped += 1
    return wrapped


def _traced(user: Callable[..., Any], name: str, kind: str) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(user):

        @functools.wraps(user)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with telemetry.invocation_span(name, kind, _attributes(args, kwargs)) as span:
                return _outcome(span, await user(*args, **kwargs))

        run_async._aml_traced = True
        return run_async

    @functools.wraps(user)
    def run(*args: Any, **kwargs: Any) -> Any:
        with telemetry.invocation_span(name, kind, _attributes(args, kwargs)) as span:
            return _outcome(span, user(*args, **kwargs))

    run._aml_traced = True
    return run


def _attributes(args: tuple, kwargs: dict) -> dict[str, str]:
    """What the trigger input says about the invocation: the HTTP method and path, the event id, the move id."""
    found: dict[str, str] = {}
    for value in (*args, *kwargs.values()):
        if hasattr(value, "method") and hasattr(value, "url"):  # func.HttpRequest
            found["http.request.method"] = str(value.method)
            found["url.path"] = urlsplit(str(value.url)).path  # never the query string: it may carry a key
        elif hasattr(value, "event_type") and hasattr(value, "id"):  # func.EventGridEvent
            found["eventId"] = str(value.id)
        elif isinstance(value, dict) and isinstance(value.get("plan"), dict):  # a move activity's payload
            plan = value["plan"]
            found["moveId"] = str(plan.get("moveId", ""))
            workspace = (plan.get("request") or {}).get("workspaceId")
            if workspace:
                found["workspaceId"] = str(workspace)
    return found


def _outcome(span: Any, result: Any) -> Any:
    status = getattr(result, "status_code", None)
    if isinstance(status, int):  # func.HttpResponse
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
    return result
