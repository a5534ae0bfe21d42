"""Case-insensitive ARM path routing and the per-request context handlers receive."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from aiohttp import web

from .errors import ArmError
from .events import RequestInfo

if TYPE_CHECKING:
    from .server import Simulator

Handler = Callable[["Ctx"], Awaitable[web.StreamResponse]]

WS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
RG = "/subscriptions/{sub}/resourceGroups/{rg}"


def pattern(template: str) -> re.Pattern:
    """'/subscriptions/{sub}/x/{rest*}' -> anchored, case-insensitive regex with named groups."""
    out, pos = "", 0
    for match in re.finditer(r"\{(\w+)(\*?)\}", template):
        out += re.escape(template[pos:match.start()])
        out += f"(?P<{match.group(1)}>.+)" if match.group(2) else f"(?P<{match.group(1)}>[^/]+)"
        pos = match.end()
    out += re.escape(template[pos:])
    return re.compile("^" + out + "/?$", re.I)


async def read_json_object(request: web.Request, *, required: bool = True) -> dict:
    """The request's JSON object body (ARM's InvalidRequestContent when missing, malformed or not an object)."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ArmError(400, "InvalidRequestContent", "The request content was missing.")
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {exc}") from exc
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return body


@dataclass
class Route:
    methods: tuple[str, ...]
    regex: re.Pattern
    handler: Handler


def route(methods: str, template: str, handler: Handler) -> Route:
    return Route(tuple(methods.upper().split(",")), pattern(template), handler)


class Ctx:
    """One ARM request: the aiohttp request, matched path parameters, the simulator, and event helpers."""

    def __init__(self, request: web.Request, sim: "Simulator", params: dict[str, str], info: RequestInfo) -> None:
        self.request = request
        self.sim = sim
        self.state = sim.state
        self.params = params
        self.info = info
        self._query = {k.lower(): v for k, v in request.query.items()}

    @property
    def base_url(self) -> str:
        return self.sim.base_url

    @property
    def method(self) -> str:
        return self.request.method

    def q(self, name: str, default: str | None = None) -> str | None:
        return self._query.get(name.lower(), default)

    @property
    def api_version(self) -> str:
        return self.q("api-version") or ""

    async def json(self, required: bool = True) -> dict:
        return await read_json_object(self.request, required=required)

    def emit(self, kind: str, resource_id: str, operation_name: str, info: RequestInfo | None = None) -> None:
        self.sim.emit(kind, resource_id, operation_name, info or self.info)


def page(ctx: Ctx, items: list[dict], size: int, token_name: str = "$skipToken") -> dict:
    """One page of a list with a nextLink carrying the offset."""
    raw = ctx.q(token_name) or ctx.q("$skiptoken") or ctx.q("$skip") or "0"
    try:
        start = max(int(raw), 0)
    except ValueError as exc:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{raw}' is invalid.") from exc
    top = ctx.q("$top")
    if top and top.isdigit():
        items = items[: int(top)]
    size = max(size, 1)
    chunk = items[start:start + size]
    body: dict = {"value": chunk}
    if start + size < len(items):
        rel = ctx.request.rel_url
        query = {k: v for k, v in rel.query.items() if k.lower() not in ("$skiptoken", "$skip")}
        query[token_name] = str(start + size)
        body["nextLink"] = ctx.base_url + str(rel.with_query(query))
    return body
