"""Event Grid basic topic endpoints for the app's alerts: publish (aeg-sas-key), read back, clear."""
from __future__ import annotations

import hmac
import json
import re
from typing import TYPE_CHECKING

from aiohttp import web

from .errors import ArmError
from .shapes import now_iso

if TYPE_CHECKING:
    from .server import Simulator

_PATH = re.compile(r"^/_sim/topics/(?P<name>[A-Za-z0-9_.-]+)/(?P<rest>api/events|events)/?$", re.I)
CLOUD_EVENT_REQUIRED = ("id", "source", "type", "specversion")
EVENT_GRID_REQUIRED = ("id", "subject", "eventType", "eventTime", "data", "dataVersion")


class Topics:
    def __init__(self) -> None:
        self.published: dict[str, list[dict]] = {}

    def clear(self, name: str | None = None) -> None:
        if name is None:
            self.published.clear()
        else:
            self.published.pop(name.lower(), None)


def _error(status: int, code: str, message: str) -> ArmError:
    return ArmError(status, code, message)


async def handle(request: web.Request, sim: "Simulator") -> web.Response:
    match = _PATH.match(request.path)
    if not match:
        raise _error(404, "NotFound", f"No topic route for '{request.path}'.")
    name, rest = match.group("name").lower(), match.group("rest").lower()
    if rest == "events":  # control: read back / clear
        if request.method == "GET":
            return web.json_response(sim.topics.published.get(name, []))
        if request.method == "DELETE":
            sim.topics.clear(name)
            return web.Response(status=204)
        raise _error(405, "MethodNotAllowed", "Use GET or DELETE on /_sim/topics/{name}/events.")
    if request.method != "POST":
        raise _error(405, "MethodNotAllowed", "Publish with POST.")
    key = request.headers.get("aeg-sas-key")
    if not key or not hmac.compare_digest(key, sim.topic_key):
        raise _error(401, "Unauthorized", "The request authorization key is not authorized for this topic "
                                          "(aeg-sas-key missing or wrong).")
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    try:
        events = json.loads(await request.read())
    except ValueError as exc:
        raise _error(400, "BadRequest", f"The request body is not valid JSON: {exc}") from exc
    if isinstance(events, dict):
        events = [events]
    if not isinstance(events, list) or not events:
        raise _error(400, "BadRequest", "The request body must be a non-empty JSON array of events.")
    cloud = content_type in ("application/cloudevents-batch+json", "application/cloudevents+json")
    required = CLOUD_EVENT_REQUIRED if cloud else EVENT_GRID_REQUIRED
    for index, event in enumerate(events):
        missing = [f for f in required if not isinstance(event, dict) or f not in event]
        if missing:
            raise _error(400, "BadRequest", f"Event {index} is missing required field(s): {', '.join(missing)}.")
        if cloud and event.get("specversion") != "1.0":
            raise _error(400, "BadRequest", f"Event {index} has specversion {event.get('specversion')!r}; expected '1.0'.")
    stored = sim.topics.published.setdefault(name, [])
    for event in events:
        stored.append({"receivedAt": now_iso(), "schema": "CloudEventSchemaV1_0" if cloud else "EventGridSchema",
                       "contentType": content_type, "event": event})
    return web.Response(status=200)
