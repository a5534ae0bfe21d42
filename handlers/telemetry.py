"""Handler telemetry: one span per invocation (`traced`, `activity`); Azure Monitor is set up by shared/telemetry.py."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from shared import telemetry
from shared.untrusted_input import JsonInputError, loads_bounded


def traced(trigger: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: one span per invocation of the function below it (`faas.trigger` = `trigger`: http, pubsub,
    timer, other). Keeps the function's name, signature and sync/async kind, so the worker and the dev host bind
    it as before. Orchestrators are never traced: their code replays, so a span per replay would be noise (the
    activities they call each get one). HTTP functions get theirs from `handlers.http.api`."""

    def decorate(user: Callable[..., Any]) -> Callable[..., Any]:
        name = user.__name__
        if inspect.iscoroutinefunction(user):

            @functools.wraps(user)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                await telemetry.wait_until_ready_async()  # never blocks the worker's event loop
                with telemetry.invocation_span(name, trigger, _attributes(args, kwargs)) as span:
                    return _outcome(span, await user(*args, **kwargs))

            return run_async

        @functools.wraps(user)
        def run(*args: Any, **kwargs: Any) -> Any:
            with telemetry.invocation_span(name, trigger, _attributes(args, kwargs)) as span:
                return _outcome(span, user(*args, **kwargs))

        return run

    return decorate


def activity(bp: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@bp.activity_trigger(input_name="payload")` with the activity's span: every move activity takes `payload`."""

    def register(user: Callable[..., Any]) -> Any:
        return bp.activity_trigger(input_name="payload")(traced("other")(user))

    return register


def _attributes(args: tuple, kwargs: dict) -> dict[str, str]:
    """What the trigger input says about the invocation: the HTTP method and path, the event id, the move id."""
    found: dict[str, str] = {}
    for value in (*args, *kwargs.values()):
        if hasattr(value, "method") and hasattr(value, "url"):  # func.HttpRequest
            found["http.request.method"] = str(value.method)
            found["url.path"] = urlsplit(str(value.url)).path  # never the query string: it may carry a key
        elif hasattr(value, "event_type") and hasattr(value, "id"):  # func.EventGridEvent
            found["eventId"] = str(value.id)
        elif isinstance(value, str) and value.lstrip().startswith("{"):  # an event's JSON text (the `str` binding)
            event_id = _event_id(value)
            if event_id:
                found["eventId"] = event_id
        elif isinstance(value, dict) and isinstance(value.get("plan"), dict):  # a move activity's payload
            plan = value["plan"]
            found["moveId"] = str(plan.get("moveId", ""))
            workspace = (plan.get("request") or {}).get("workspaceId")
            if workspace:
                found["workspaceId"] = str(workspace)
    return found


def _event_id(text: str) -> str | None:
    try:
        event = loads_bounded(text)
    except JsonInputError:
        return None
    return str(event.get("id"))[:128] if isinstance(event, dict) and event.get("id") is not None else None


def _outcome(span: Any, result: Any) -> Any:
    status = getattr(result, "status_code", None)
    if isinstance(status, int):  # func.HttpResponse
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
    return result
