"""The aiohttp application: request log, fault injection, bearer auth, api-version check and route dispatch."""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import uuid
from pathlib import Path

from aiohttp import web

from . import (
    activity_log,
    control,
    ids,
    routes_authz,
    routes_deleted,
    routes_management_groups,
    routes_ml,
    routes_ml_children,
    routes_ml_compute,
    routes_ml_kinds,
    routes_resources,
    routes_subscriptions,
    topics,
)
from .errors import ArmError, error_body
from .events import EventBus, RequestInfo, build_event, claims_for
from .faults import Faults, as_error
from .lro import Operation, Operations
from .router import Ctx, Route
from .shapes import now_iso
from .state import State

log = logging.getLogger("armsim")

ROUTES: list[Route] = [
    *routes_subscriptions.ROUTES, *routes_authz.ROUTES, *routes_ml.ROUTES,
    *routes_ml_compute.ROUTES,  # before routes_ml_children: its PUT / DELETE of computes and endpoints are LROs
    *routes_ml_children.ROUTES, *routes_ml_kinds.ROUTES,
    *routes_deleted.ROUTES, *routes_resources.ROUTES, *routes_management_groups.ROUTES, *activity_log.ROUTES,
]


class Simulator:
    """Owns the state and the cross-cutting services; one per server."""

    def __init__(self, *, token: str, scenario: dict | None = None, topic_key: str | None = None,
                 retry_after: int = 1, polls: int = 2, state_dir: Path | None = None,
                 delivery_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4)) -> None:
        self.token = token
        self.topic_key = topic_key if topic_key is not None else token
        self.scenario = scenario
        self.state = State(scenario)
        self.state_dir = state_dir
        self.faults = Faults()
        self.bus = EventBus(retry_delays=delivery_retry_delays)
        self.topics = topics.Topics()
        self.operations = Operations(polls=polls, retry_after=retry_after, on_finish=self._finished)
        self.request_log: list[dict] = []
        self.activity_log = activity_log.ActivityLog()
        self.activity_log.seed(self.state, "")
        self.purge_mode = "purge"  # DELETE ?forceToPurge=true of a soft-deleted workspace: purge | held204 | notFound
        self.base_url = ""
        self.port = 0

    def reset(self) -> None:
        self.state = State(self.scenario)
        self.activity_log = activity_log.ActivityLog()
        self.activity_log.seed(self.state, self.base_url)
        self.purge_mode = "purge"
        self.operations.operations.clear()
        self.operations.unpolled_seconds = None
        self.faults.clear()

    def _finished(self, op: Operation) -> None:
        self.state.unlock(op.id)

    def emit(self, kind: str, resource_id: str, operation_name: str, info: RequestInfo) -> None:
        tenant = self.state.tenant_of(ids.subscription_of(resource_id) or "") or ""
        self.bus.publish([build_event(kind, resource_id, operation_name, info, tenant)])

    def log_operation(self, resource_id: str, operation_name: str, info: RequestInfo) -> activity_log.Operation:
        """Start an operation's Activity Log entries (Started now; the caller finishes it)."""
        tenant = self.state.tenant_of(ids.subscription_of(resource_id) or "") or ""
        return self.activity_log.start(resource_id, operation_name, info, tenant)

    def request_info(self, request: web.Request) -> RequestInfo:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        sub = ids.subscription_of(request.path) or ""
        tenant = self.state.tenant_of(sub) or next(iter(self.state.tenants), "")
        return RequestInfo(
            method=request.method,
            url=self.base_url + str(request.rel_url),
            client_request_id=request.headers.get("x-ms-client-request-id") or str(uuid.uuid4()),
            client_ip=request.remote or "127.0.0.1",
            correlation_id=request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()),
            claims=claims_for(self.state.principals, token, tenant),
        )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024 * 1024)
        control.register(app, self)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_shutdown(self, _app: web.Application) -> None:
        await self.bus.close()
        if self.state_dir is not None:
            self.state.save(self.state_dir / "state.json")

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        path = request.path
        is_control = path.startswith("/_sim/") and not path.startswith("/_sim/topics/")
        if path.startswith("/_sim/") and not _is_loopback(request.remote):
            return _error(ArmError(403, "Forbidden", "The simulator control API is loopback-only."))
        if is_control:
            try:
                return await handler(request)
            except ArmError as exc:
                return _error(exc)
        self.operations.settle_due()
        entry = {"method": request.method, "path": path, "query": dict(request.query), "time": now_iso(),
                 "tokenOk": self._token_ok(request), "status": None}
        self.request_log.append(entry)
        response = await self._guarded(request, handler, entry)
        entry["status"] = response.status
        return response

    async def _guarded(self, request: web.Request, handler, entry: dict) -> web.StreamResponse:
        correlation = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        extra = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": correlation}
        try:
            fault = self.faults.take(request.method, request.path)
            if fault is not None:
                entry["fault"] = fault.id
                if fault.kind == "latency":
                    await asyncio.sleep(fault.latency_ms / 1000)
                else:
                    raise as_error(fault)
            if not request.path.startswith("/_sim/topics/"):
                self._authenticate(request, entry)
                self._check_tenant(request)
                if not request.query.get("api-version") and not any(k.lower() == "api-version" for k in request.query):
                    raise ArmError(400, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required for all requests.")
                self.state.tick()
            response = await handler(request)
        except ArmError as exc:
            response = _error(exc)
        except web.HTTPException:
            raise
        except Exception as exc:  # a bug in the simulator must still answer like ARM
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = _error(ArmError(500, "InternalServerError", f"Simulator error: {exc!r}"))
        for name, value in extra.items():
            response.headers.setdefault(name, value)
        return response

    def _token_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.lower().startswith("bearer ") and header[7:].strip() == self.token

    def _authenticate(self, request: web.Request, entry: dict) -> None:
        header = request.headers.get("Authorization", "")
        challenge = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                                         'error="invalid_token", error_description="The authentication failed"'}
        if not header:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           headers=challenge)
        if not self._token_ok(request):
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", headers=challenge)

    def _check_tenant(self, request: web.Request) -> None:
        """A token is issued by one tenant; ARM answers 401 InvalidAuthenticationTokenTenant for a subscription of
        another, with the wording ARM uses (as reported verbatim in e.g. github.com/Azure/azure-sdk-for-net/issues/49391).
        The subscription list holds only the home tenant's subscriptions, as ARM's does."""
        sub_id = ids.subscription_of(request.path)
        sub = self.state.subscription(sub_id) if sub_id else None
        home = self.state.home_tenant
        if sub is None or not home or sub["tenantId"].lower() == home.lower():
            return
        raise ArmError(401, "InvalidAuthenticationTokenTenant",
                       f"The access token is from the wrong issuer 'https://sts.windows.net/{home}/'. It must match the "
                       f"tenant 'https://sts.windows.net/{sub['tenantId']}/' associated with this subscription. Please "
                       f"use the authority (URL) 'https://login.windows.net/{sub['tenantId']}' to get the token. Note, if "
                       "the subscription is transferred to another tenant there is no impact to the services, but "
                       "information about new tenant could take time to propagate (up to an hour).")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/_sim/topics/"):
            return await topics.handle(request, self)
        allowed = False
        for route in ROUTES:
            match = route.regex.match(request.path)
            if not match:
                continue
            allowed = True
            if request.method not in route.methods:
                continue
            ctx = Ctx(request, self, match.groupdict(), self.request_info(request))
            return await route.handler(ctx)
        if allowed:
            raise ArmError(405, "MethodNotAllowed", f"The method '{request.method}' is not allowed on '{request.path}'.")
        raise ArmError(404, "InvalidResourceType" if "/providers/" in request.path.lower() else "NotFound",
                       f"No route for '{request.method} {request.path}'.")


def _is_loopback(remote: str | None) -> bool:
    try:
        return ipaddress.ip_address(remote or "").is_loopback
    except ValueError:
        return False


def _error(exc: ArmError) -> web.Response:
    response = web.json_response(error_body(exc.code, exc.message, details=exc.details, target=exc.target),
                                 status=exc.status)
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


async def serve(sim: Simulator, *, host: str, port: int, ssl_context) -> web.AppRunner:
    """Start the HTTPS server; sets sim.base_url / sim.port to where it listens."""
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    sockets = site._server.sockets  # type: ignore[union-attr]
    sim.port = sockets[0].getsockname()[1]
    sim.base_url = f"https://{host}:{sim.port}"
    return runner
