"""The dev host's HTTP server: wires HTTP triggers, Event Grid, admin and Durable routes to the app's functions."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from local.devhost import eventgrid, http_routes
from local.devhost.app_loader import (
    ACTIVITY,
    EVENT_GRID,
    HTTP,
    ORCHESTRATION,
    TIMER,
    FunctionIndex,
    IndexedFunction,
    index_app,
)
from local.devhost.durable_api import DurableApi, management_payload
from local.devhost.durable_engine import DurableEngine
from local.devhost.durable_store import DurableStore, MemoryDurableStore, TableDurableStore
from local.devhost.easyauth import EasyAuth
from local.devhost.invocation import call_function
from local.devhost.openapi import OpenApiDocument
from local.devhost.settings import ADMIN, ANONYMOUS, FUNCTION, SYSTEM, FunctionKey, HostKeys, system_key_name
from local.devhost.timers import TimerScheduler
from shared.untrusted_input import loads_bounded

log = logging.getLogger("devhost")
WEBHOOKS = "/runtime/webhooks/"
DURABLE_WEBHOOK = "/runtime/webhooks/durabletask"
DURABLE_KEY = system_key_name("durabletask")
_ROUTE_LEVELS = {"ANONYMOUS": ANONYMOUS, "FUNCTION": FUNCTION, "SYSTEM": SYSTEM, "ADMIN": ADMIN}
DURABLE_RPC = "/durabletask"
MAX_BODY = 100 * 1024 * 1024  # the Functions host's request size limit


def store_for(connection_string: str | None, hub_name: str) -> DurableStore:
    if connection_string:
        return TableDurableStore(connection_string, hub_name)
    log.warning("AzureWebJobsStorage is not set: Durable state is kept in memory and lost on restart")
    return MemoryDurableStore()


class DevHost:
    """A development Functions host for one app object (not for production: one process, no scale-out). Its keys
    work as the host's do: master key for /admin, extension system keys for the webhooks, function key for routes."""

    def __init__(self, app: Any, *, function_key: FunctionKey, keys: HostKeys | None = None,
                 storage_connection: str | None = None,
                 hub_name: str = "TestHubName", route_prefix: str = "api", store: DurableStore | None = None,
                 index: FunctionIndex | None = None, openapi: str | os.PathLike | None = None,
                 easyauth: EasyAuth | None = None) -> None:
        self.index = index or index_app(app)
        self.easyauth = easyauth  # App Service Authentication in front of /api (AML_LIFECYCLE_AUTH=entra)
        self.openapi = OpenApiDocument(openapi) if openapi else None
        self.keys = keys or HostKeys.single(function_key)
        self.key, self.hub_name = self.keys.function, hub_name
        self.route_prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""
        self.executor = ThreadPoolExecutor(max_workers=int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT") or 0)
                                           or None, thread_name_prefix="devhost-fn")
        self.router = http_routes.HttpRouter(self.index.of_type(HTTP))
        self.engine = DurableEngine(self.index, store or store_for(storage_connection, hub_name),
                                    executor=self.executor, hub_name=hub_name)
        self.durable_api = DurableApi(self.engine, self._management_payload)
        self._rpc_runner: web.AppRunner | None = None
        self.rpc_port = 0
        self.timers = TimerScheduler(self.index.of_type(TIMER), self.call)
        self._background: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 7071) -> str:
        await self.engine.open()
        application = web.Application(client_max_size=MAX_BODY)
        # [\s\S]: a decoded path may hold %0A and the like; the route templates decide, as the Functions host does.
        application.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        # The Durable extension's RPC endpoint (the SDK's rpcBaseUrl) is a listener of its own on loopback, as the
        # host's local HTTP listener is, never a path of the public one.
        rpc = web.Application(client_max_size=MAX_BODY)
        rpc.router.add_route("*", r"/{tail:[\s\S]*}", self.handle_rpc)
        self._rpc_runner = web.AppRunner(rpc, access_log=None)
        await self._rpc_runner.setup()
        await web.TCPSite(self._rpc_runner, "127.0.0.1", 0).start()
        self.rpc_port = self._rpc_runner.addresses[0][1]
        self.timers.start()
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        await self.timers.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._rpc_runner is not None:
            await self._rpc_runner.cleanup()
        await self.engine.close()
        await _close_durable_client_session()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def describe(self, base_url: str) -> list[dict]:
        described = []
        for function in self.index.functions.values():
            entry = {"name": function.name, "trigger": function.trigger_type}
            if function.trigger_type == HTTP:
                entry["url"] = f"{base_url}{self.route_prefix}/{function.trigger.get('route') or function.name}"
                entry["methods"] = [str(m).upper() for m in function.trigger.get("methods") or []]
            elif function.trigger_type == EVENT_GRID:
                entry["url"] = f"{base_url}/runtime/webhooks/eventgrid?functionName={function.name}"
            described.append(entry)
        return described

    # ---- invocation ------------------------------------------------------------------------------------------

    async def call(self, function: IndexedFunction, kwargs: dict[str, Any]) -> Any:
        """Invoke any function; a durable client binding outside HTTP gets URLs on the loopback listener."""
        client_arg = function.durable_client_arg
        if client_arg and client_arg not in kwargs:
            kwargs = {**kwargs, client_arg: http_routes.durable_client_json(
                f"http://127.0.0.1:{self.port}", self._rpc_base_url(), self.hub_name,
                self.keys.system[DURABLE_KEY])}
        return await call_function(function.function, kwargs, name=function.name,
                                   binding_names={b["name"] for b in function.bindings}, executor=self.executor)

    def _client_json(self, request: web.Request) -> str:
        """The binding payload: management URLs carry the durabletask system key, as the real host's do."""
        return http_routes.durable_client_json(f"{request.scheme}://{request.host}",
                                               self._rpc_base_url(), self.hub_name,
                                               self.keys.system[DURABLE_KEY])

    def _rpc_base_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}{DURABLE_RPC}/"

    def _management_payload(self, request: web.Request, instance_id: str) -> dict:
        """URLs on the public listener, without a key (an answer never hands out the system key)."""
        return management_payload(f"http://127.0.0.1:{self.port}", self.hub_name, None, instance_id)

    async def handle_rpc(self, request: web.Request) -> web.StreamResponse:
        """The RPC listener: loopback callers only, the Durable HTTP API under /durabletask/, nothing else."""
        if not _is_loopback(request.remote):
            return web.Response(status=403, text="the durable RPC endpoint only answers loopback callers")
        if not request.path.lower().startswith(DURABLE_RPC + "/"):
            return web.Response(status=404)
        return await self.durable_api.handle(request, request.path[len(DURABLE_RPC) + 1:])

    # ---- routing ---------------------------------------------------------------------------------------------

    @staticmethod
    def _presented_key(request: web.Request) -> str | None:
        """The `x-functions-key` header, else the `code` query parameter (the header wins, as in the host's
        AuthenticationLevelHandler)."""
        if "x-functions-key" in request.headers:  # present, even empty, it decides (the query is not consulted)
            return request.headers.get("x-functions-key")
        return request.query.get("code")

    def _allows(self, request: web.Request, level: str, key_name: str | None = None) -> bool:
        return self.keys.allows(self._presented_key(request), level, key_name)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        lowered = path.lower()
        if lowered.startswith("/admin/"):  # the host's AdminAuthLevel policy: the master key only
            if not self._allows(request, ADMIN):
                return web.Response(status=401)
            return await self.admin(request, path)
        if lowered.startswith(WEBHOOKS):  # SystemKeyAuthLevel: `<extension>_extension` or the master key
            extension = lowered[len(WEBHOOKS):].split("/", 1)[0]
            if not extension or not self._allows(request, SYSTEM, system_key_name(extension)):
                return web.Response(status=401)
            if lowered.startswith(DURABLE_WEBHOOK + "/"):
                return await self.durable_api.handle(request, path[len(DURABLE_WEBHOOK) + 1:])
            if lowered.rstrip("/") == "/runtime/webhooks/eventgrid" and request.method in ("POST", "OPTIONS"):
                name = request.query.get("functionName", "")
                function = self.index.get(name)
                if function is not None and function.trigger_type != EVENT_GRID:
                    function = None
                return await eventgrid.handle_eventgrid(request, function, name, self.call)
            return web.Response(status=404)
        if self.route_prefix and not (lowered == self.route_prefix or lowered.startswith(self.route_prefix + "/")):
            return web.Response(status=404)
        relative = path[len(self.route_prefix):]
        found = self.router.find(request.method, relative)
        if found is None:
            document = self._openapi_document(request, relative)
            return web.Response(status=404) if document is None else document
        target, params = found
        headers = None
        if self.easyauth is not None:  # the platform's module runs before the host's key check
            headers, refused = self.easyauth.filter(http_routes.lower_headers(request))
            if headers is None:
                log.info("App Service Authentication refused a token: %s", refused)
                return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if not self._allows(request, _ROUTE_LEVELS.get(target.auth_level, ADMIN)):
            return web.Response(status=401)
        return await http_routes.invoke_http(target, request, params, self.call, lambda: self._client_json(request),
                                             headers=headers)

    def _openapi_document(self, request: web.Request, relative: str) -> web.Response | None:
        """The OpenAPI document (anonymous) on a path no app route claims, whatever the method."""
        kind = OpenApiDocument.format_of(relative)
        if self.openapi is None or kind is None or request.method not in ("GET", "HEAD"):
            return None
        if any(function.route.match(relative) is not None for function in self.router.functions):
            return None
        return self.openapi.response(kind)

    async def admin(self, request: web.Request, path: str) -> web.Response:
        parts = [p for p in path.split("/") if p]
        if parts[1:] == ["host", "status"]:
            return web.json_response({"state": "Running", "version": "devhost"})
        if len(parts) == 3 and parts[1].lower() == "functions" and request.method == "POST":
            function = self.index.get(parts[2])
            if function is None:
                return web.Response(status=404)
            raw = await request.text()
            try:
                document = loads_bounded(raw) if raw.strip() else {}  # a JsonInputError is a ValueError: 400
                return await self.invoke_now(function, document.get("input") if isinstance(document, dict) else None)
            except (ValueError, TypeError) as exc:
                return web.json_response({"Message": str(exc)}, status=400)
        return web.Response(status=404)

    async def invoke_now(self, function: IndexedFunction, input_text: str | None) -> web.Response:
        """Run a non-HTTP function now, in the background, like the host's admin endpoint (202)."""
        kind = function.trigger_type
        if kind == HTTP:
            return web.json_response({"Message": "HTTP functions are invoked through their route"}, status=400)
        if kind == TIMER:
            work = self.timers.run_now(function)
        elif kind == ORCHESTRATION:
            work = self.engine.start_json(function.name, http_routes.json_text_or_string(input_text))
        elif kind == EVENT_GRID:
            work = self.call(function, {function.trigger_arg: eventgrid.decode_event(function, json.loads(input_text or "{}"))})
        elif kind == ACTIVITY:
            work = self.call(function, {function.trigger_arg: http_routes.decode_json_or_text(input_text)})
        else:
            work = self.call(function, {function.trigger_arg: input_text})
        task = asyncio.create_task(_logged(function.name, work))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return web.Response(status=202)


async def _logged(name: str, work: Any) -> None:
    try:
        await work
    except Exception:
        log.exception("admin invocation of %s failed", name)


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


async def _close_durable_client_session() -> None:
    """The Durable SDK's client keeps one shared aiohttp session per process; close it on shutdown."""
    try:
        from azure.durable_functions.models.utils.http_utils import _close_session
    except ImportError:
        return
    await _close_session()
