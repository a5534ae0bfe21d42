"""HTTP triggers: Functions route templates, key auth levels, and func.HttpRequest/HttpResponse translation."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

import azure.functions as func
from aiohttp import web

from local.devhost.app_loader import IndexedFunction

log = logging.getLogger("devhost.http")

_PARAM = re.compile(r"\{([^{}]+)\}")
_CONSTRAINTS = {"int": r"-?\d+", "long": r"-?\d+", "bool": r"(?i:true|false)", "alpha": r"[A-Za-z]+",
                "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
                "double": r"-?\d+(?:\.\d+)?", "float": r"-?\d+(?:\.\d+)?", "decimal": r"-?\d+(?:\.\d+)?"}


@dataclass
class RouteTemplate:
    """A compiled route template such as `retention/{subscriptionId}/{name:int?}` or `files/{*path}`."""

    template: str
    pattern: re.Pattern
    names: dict[str, str]  # regex group -> route parameter name
    defaults: dict[str, str]
    precedence: tuple

    @classmethod
    def parse(cls, template: str) -> "RouteTemplate":
        template = template.strip("/")
        names: dict[str, str] = {}
        defaults: dict[str, str] = {}
        parts, ranks = [], []
        for segment in template.split("/") if template else []:
            optional = False
            regex, last, rank = "", 0, 0
            for match in _PARAM.finditer(segment):
                regex += re.escape(segment[last:match.start()])
                last = match.end()
                spec = match.group(1)
                catch_all = spec.startswith("*")
                spec = spec.lstrip("*")
                name, _, constraint = spec.partition(":")
                if name.endswith("?"):
                    name, optional = name[:-1], True
                if constraint.endswith("?"):
                    constraint, optional = constraint[:-1], True
                name, _, default = name.partition("=")
                if default:
                    defaults[name], optional = default, True
                group = f"g{len(names)}"
                names[group] = name
                body = ".*" if catch_all else _CONSTRAINTS.get(constraint.split("(")[0].lower(), r"[^/]+")
                regex += f"(?P<{group}>{body})"
                rank = max(rank, 4 if catch_all else 3 if optional else 1 if constraint else 2)
            regex += re.escape(segment[last:])
            ranks.append(rank)
            parts.append((regex, optional or rank == 4))
        pattern = ""
        for index, (regex, optional) in enumerate(parts):
            piece = regex if index == 0 else "/" + regex
            pattern += f"(?:{piece})?" if optional else piece
        compiled = re.compile(f"^{pattern}/?\\Z", re.IGNORECASE)  # \Z: "$" would also match before a final newline
        return cls(template, compiled, names, defaults, tuple(ranks) + (0,) * (32 - len(ranks)))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path.strip("/"))
        if found is None:
            return None
        params = dict(self.defaults)
        params.update({self.names[g]: v for g, v in found.groupdict().items() if v is not None})
        return params


@dataclass
class HttpFunction:
    function: IndexedFunction
    route: RouteTemplate
    methods: frozenset[str]
    auth_level: str

    @classmethod
    def from_indexed(cls, function: IndexedFunction) -> "HttpFunction":
        trigger = function.trigger
        route = trigger.get("route") or function.name
        methods = frozenset(str(m).upper() for m in (trigger.get("methods") or [])) or frozenset()
        level = str(trigger.get("authLevel") or "FUNCTION").upper()
        return cls(function, RouteTemplate.parse(route), methods, level)


class HttpRouter:
    """Finds the HTTP function for a path (most specific template first) and invokes it."""

    def __init__(self, functions: list[IndexedFunction]) -> None:
        self.functions = sorted((HttpFunction.from_indexed(f) for f in functions),
                                key=lambda f: f.route.precedence)

    def find(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | None:
        for candidate in self.functions:
            params = candidate.route.match(path)
            if params is not None and (not candidate.methods or method.upper() in candidate.methods):
                return candidate, params
        return None


def lower_headers(request: web.Request) -> dict[str, str]:
    """The request's headers by lower-case name, repeated ones joined with ', ' (as the worker hands them over)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
    return headers


async def build_request(request: web.Request, route_params: dict[str, str],
                        headers: dict[str, str] | None = None) -> func.HttpRequest:
    body = await request.read()
    headers = lower_headers(request) if headers is None else headers
    return func.HttpRequest(method=request.method, url=str(request.url), headers=headers,
                            params={k: v for k, v in request.query.items()}, route_params=route_params, body=body)


def to_response(result: Any) -> web.Response:
    """Translate what an HTTP function returned into the aiohttp response."""
    if result is None:
        return web.Response(status=204)
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items()}
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = f"{result.mimetype}; charset={result.charset}" if result.mimetype else \
                "text/plain; charset=utf-8"
        return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
    if isinstance(result, (bytes, bytearray)):
        return web.Response(status=200, body=bytes(result), content_type="application/octet-stream")
    if isinstance(result, str):
        return web.Response(status=200, text=result, content_type="text/plain")
    return web.Response(status=200, text=json.dumps(result), content_type="application/json")


def durable_client_json(base_url: str, rpc_base_url: str, hub: str, key: str, connection: str = "Storage") -> str:
    """The durableClient binding payload the Python SDK's DurableOrchestrationClient is built from."""
    webhook = f"{base_url}/runtime/webhooks/durabletask"
    query = f"taskHub={hub}&connection={connection}&code={key}"
    instance = f"{webhook}/instances/INSTANCEID"
    return json.dumps({
        "taskHubName": hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{webhook}/orchestrators/{{functionName}}[/{{instanceId}}]?{query}",
            "createAndWaitOnNewInstancePostUri": f"{webhook}/orchestrators/{{functionName}}[/{{instanceId}}]"
                                                 f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{query}"},
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}",
            "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}"},
        "baseUrl": webhook,
        "requiredQueryStringParameters": query,
        "rpcBaseUrl": rpc_base_url,
        "httpBaseUrl": "",
        "maxGrpcMessageSizeInBytes": 0,
        "grpcHttpClientTimeout": "00:01:40",
    })


async def invoke_http(target: HttpFunction, request: web.Request, route_params: dict[str, str],
                      call: Callable, client_json: Callable[[], str],
                      headers: dict[str, str] | None = None) -> web.Response:
    """Call the HTTP function with its trigger (and durable client) bindings; a raise becomes a bare 500. `headers`
    replaces the request's own (what App Service Authentication hands the app)."""
    function = target.function
    kwargs: dict[str, Any] = {function.trigger_arg: await build_request(request, route_params, headers)}
    if function.durable_client_arg:
        kwargs[function.durable_client_arg] = client_json()
    try:
        result = await call(function, kwargs)
    except Exception:
        log.exception("function %s failed", function.name)
        return web.Response(status=500)
    try:
        return to_response(result)
    except Exception:
        log.exception("function %s returned an unusable response %r", function.name, result)
        return web.Response(status=500)


def json_text_or_string(text: str | None) -> str | None:
    """An admin `input` as JSON text: used as is when it parses, else wrapped as a JSON string."""
    if text is None:
        return None
    try:
        json.loads(text)
        return text
    except ValueError:
        return json.dumps(text)


def decode_json_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
