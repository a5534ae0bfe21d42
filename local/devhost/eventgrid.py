"""Event Grid trigger webhook (`/runtime/webhooks/eventgrid`): handshakes, Event Grid and CloudEvents batches."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import typing
from typing import Any, Callable

from aiohttp import web
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from local.devhost.app_loader import IndexedFunction
from shared.untrusted_input import JsonInputError, loads_bounded

log = logging.getLogger("devhost.eventgrid")

EVENT_TYPE_HEADER = "aeg-event-type"
KNOWN_ORIGINS = ("eventgrid.azure.net", "eventgrid.azure.us", "eventgrid.azure.eaglex.ic.gov",
                 "eventgrid.azure.microsoft.scloud", "eventgrid.azure.cn")


def decode_event(function: IndexedFunction, event: Any) -> Any:
    """What the Python worker hands the function for one event, chosen as the real worker chooses it.

    A `str` / `bytes` parameter binds as "generic" (azure-functions-python-worker functions.py: `param_py_type in
    (str, bytes)` and no implicit output): the event's JSON text as the host serialised it, nothing parsed. Any other
    annotation goes through azure-functions' EventGridEventInConverter: a CloudEvents 1.0 event (has `specversion`)
    becomes `func.CloudEvent`, an Event Grid schema event `func.EventGridEvent`; its `_parse_datetime` raises on a
    time it cannot parse (an offset other than ±00:00 included), which fails the invocation as in the real worker.
    """
    text = json.dumps(event)
    annotation = _trigger_annotation(function)
    if annotation is str:
        return text
    if annotation is bytes:
        return text.encode()
    return EventGridEventInConverter.decode(meta.Datum(text, "json"), trigger_metadata={})


def _trigger_annotation(function: IndexedFunction) -> Any:
    """The trigger parameter's annotation, string annotations resolved (the worker reads typing.get_type_hints)."""
    user = inspect.unwrap(function.function)
    try:
        return typing.get_type_hints(user).get(function.trigger_arg)
    except Exception:  # an annotation that does not resolve: the worker would refuse to load the function
        return None


def parse_body(text: str) -> Any:
    """The webhook body as the host's extension parses it (HttpRequestProcessor: Newtonsoft `JToken.Parse`, whose
    JsonReader.MaxDepth is 64). The real host answers such a failure with an exception (500) before any function
    runs; the dev host answers 400 with the reason. Raises JsonInputError."""
    return loads_bounded(text)


def allowed_origin(request: web.Request) -> str:
    origin = request.headers.get("WebHook-Request-Origin")
    return origin if origin in KNOWN_ORIGINS else KNOWN_ORIGINS[0]


def validation_code(body: Any) -> str:
    """The validationCode of a SubscriptionValidation request (array: Event Grid schema; object: CloudEvent)."""
    if isinstance(body, list):
        return str(body[0]["data"]["validationCode"])
    data = body["data"]
    if isinstance(data, str):  # double-encoded in the CloudEvent validation event
        data = json.loads(data)
    return str(data["validationCode"])


async def handle_eventgrid(request: web.Request, function: IndexedFunction | None, name: str,
                           call: Callable) -> web.Response:
    """Process one webhook request for the named Event Grid function, like the extension's HttpRequestProcessor."""
    if function is None:
        return web.Response(status=404, text=f"cannot find function: '{name}'")
    if request.method == "OPTIONS":  # CloudEvents abuse-protection handshake
        return web.Response(status=200, headers={"WebHook-Allowed-Origin": allowed_origin(request)})
    event_type = (request.headers.get(EVENT_TYPE_HEADER) or "").lower()
    if event_type == "subscriptionvalidation":
        try:
            code = validation_code(parse_body(await request.text()))
        except (ValueError, KeyError, IndexError, TypeError) as error:
            return web.json_response({"error": f"not a subscription validation event: {error}"}, status=400)
        log.info("perform handshake with eventGrid for function: %s", function.name)
        return web.json_response({"validationResponse": code})
    if event_type == "unsubscribe":
        return web.Response(status=202)
    if event_type != "notification":
        return web.Response(status=400, text=f"missing or unknown {EVENT_TYPE_HEADER} header")
    try:
        body = parse_body(await request.text())
    except JsonInputError as error:
        return web.Response(status=400, text=f"the request body {error}")
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not all(isinstance(e, dict) for e in body):
        return web.Response(status=400, text="the request content should be a JSON object or array of objects")
    return await dispatch_events(function, body, call)


async def dispatch_events(function: IndexedFunction, events: list[dict], call: Callable) -> web.Response:
    """Run the function once per event, concurrently; 202 only if every call succeeded, else 500 (sender retries)."""
    async def one(event: dict) -> None:
        await call(function, {function.trigger_arg: decode_event(function, event)})

    results = await asyncio.gather(*(one(e) for e in events), return_exceptions=True)
    failures = [(e, r) for e, r in zip(events, results) if isinstance(r, BaseException)]
    for event, error in failures:
        log.error("function %s failed for event %s: %s", function.name, event.get("id"), error,
                  exc_info=(type(error), error, error.__traceback__))
    if failures:
        # The exception stays in the log: its text may name internal hosts and ports (a storage endpoint, say).
        ids = ", ".join(str(event.get("id")) for event, _ in failures)
        return web.json_response({"error": f"the function failed for event(s) {ids}; the host log has the reason"},
                                 status=500)
    return web.Response(status=202)
