"""The Durable Functions HTTP API (`/runtime/webhooks/durabletask/...`) over the in-process engine."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote

from aiohttp import web

from local.devhost.durable_engine import (
    RUNNING_STATES,
    DurableEngine,
    InstanceExistsError,
    InstanceGoneError,
    InstanceNotFoundError,
    InstanceNotTerminalError,
)
from local.devhost.durable_store import InstanceQuery

_START = re.compile(r"^orchestrators/(?P<name>[^/]+)(?:/(?P<id>[^/]+))?/?$", re.IGNORECASE)
_INSTANCES = re.compile(r"^instances/?(?:(?P<id>[^/]+)(?:/(?P<op>[^/]+)(?:/(?P<event>[^/]+))?)?)?/?$", re.IGNORECASE)


def error(status: int, message: str, exception: BaseException | None = None) -> web.Response:
    """The extension's error body (`Message`, plus `ExceptionMessage` that the Python client reads on 400)."""
    body: dict[str, Any] = {"Message": message}
    if exception is not None or status == 400:
        body["ExceptionMessage"] = str(exception) if exception is not None else message
        body["ExceptionType"] = type(exception).__name__ if exception is not None else "System.ArgumentException"
    return web.json_response(body, status=status)


def body_as_json_text(raw: str) -> str:
    """Client bodies are double-encoded JSON (a JSON string holding JSON text); raw JSON from curl is accepted too."""
    parsed = json.loads(raw)
    if isinstance(parsed, str):
        try:
            json.loads(parsed)
            return parsed
        except ValueError:
            pass
    return json.dumps(parsed)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def truthy(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() == "true"


def query_of(request: web.Request) -> InstanceQuery:
    statuses = tuple(s.strip() for v in request.query.getall("runtimeStatus", []) for s in v.split(",") if s.strip())
    return InstanceQuery(created_from=parse_time(request.query.get("createdTimeFrom")),
                         created_to=parse_time(request.query.get("createdTimeTo")), statuses=statuses,
                         prefix=request.query.get("instanceIdPrefix"))


class DurableApi:
    """Routes a request path (relative to the durabletask base) to the engine, with the extension's status codes."""

    def __init__(self, engine: DurableEngine, management_payload: Callable[[web.Request, str], dict]) -> None:
        self.engine, self.management_payload = engine, management_payload

    async def handle(self, request: web.Request, path: str) -> web.Response:
        path = path.strip("/")
        try:
            start = _START.match(path)
            if start:
                if request.method != "POST":
                    return web.Response(status=404)
                return await self.start(request, start["name"], start["id"])
            instances = _INSTANCES.match(path)
            if instances:
                return await self.instances(request, instances["id"], instances["op"], instances["event"])
            if path.lower().startswith("entities"):
                return error(501, "Durable entities are not supported by the dev host.")
            return web.Response(status=404)
        except ValueError as exc:
            return error(400, "One or more of the arguments submitted is incorrect", exc)

    async def start(self, request: web.Request, name: str, instance_id: str | None) -> web.Response:
        raw = await request.text()
        try:
            input_json = body_as_json_text(raw) if raw.strip() else None
        except ValueError as exc:
            return error(400, "Invalid JSON content", exc)
        try:
            instance_id = await self.engine.start_json(name, input_json, instance_id=instance_id,
                                                       version=request.query.get("version"))
        except InstanceExistsError as exc:
            return error(409, str(exc))
        timeout, interval = request.query.get("timeout"), request.query.get("pollingInterval")
        if timeout and interval:
            status = await self._wait(instance_id, float(timeout))
            if status and status["runtimeStatus"] == "Completed":
                return web.json_response(status["output"])
            if status and status["runtimeStatus"] not in RUNNING_STATES:
                return await self.get_status(request, instance_id)
        return self.check_status(request, instance_id)

    async def _wait(self, instance_id: str, timeout: float) -> dict | None:
        try:
            return await self.engine.wait_for(instance_id, timeout=timeout)
        except TimeoutError:
            return await self.engine.status(instance_id)

    def check_status(self, request: web.Request, instance_id: str) -> web.Response:
        payload = self.management_payload(request, instance_id)
        return web.json_response(payload, status=202, headers={"Location": payload["statusQueryGetUri"],
                                                                "Retry-After": "10"})

    async def instances(self, request: web.Request, instance_id: str | None, op: str | None,
                        event: str | None) -> web.Response:
        method = request.method
        if instance_id is None:
            if method == "GET":
                return await self.list_instances(request)
            if method == "DELETE":
                return await self.purge_by(request)
            return web.Response(status=404)
        if op is None:
            if method == "GET":
                return await self.get_status(request, instance_id)
            if method == "DELETE":
                return await self.purge(instance_id)
            return web.Response(status=404)
        if method != "POST":
            return web.Response(status=404)
        op = op.lower()
        if op == "raiseevent" and event:
            return await self.raise_event(request, instance_id, event)
        if event is not None:
            return web.Response(status=404)
        if op == "terminate":
            return await self._guarded(self.engine.terminate(instance_id, request.query.get("reason")))
        if op in ("suspend", "resume", "rewind", "restart"):
            return error(501, f"'{op}' is not supported by the dev host.")
        return web.Response(status=404)

    async def get_status(self, request: web.Request, instance_id: str) -> web.Response:
        query = request.query
        status = await self.engine.status(
            instance_id, show_history=truthy(query.get("showHistory"), False),
            show_history_output=truthy(query.get("showHistoryOutput"), False),
            show_input=truthy(query.get("showInput"), True))
        if status is None:
            return web.Response(status=404)
        runtime = status["runtimeStatus"]
        if runtime in RUNNING_STATES:
            return web.json_response(status, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        failed_500 = runtime == "Failed" and truthy(query.get("returnInternalServerErrorOnFailure"), False)
        return web.json_response(status, status=500 if failed_500 else 200)

    async def list_instances(self, request: web.Request) -> web.Response:
        statuses = await self.engine.list_status(query_of(request),
                                                 show_input=truthy(request.query.get("showInput"), True))
        offset = int(request.headers.get("x-ms-continuation-token") or 0)
        top = int(request.query.get("top") or 0) or len(statuses)
        page = statuses[offset:offset + top]
        following = offset + top if offset + top < len(statuses) else None
        headers = {"x-ms-continuation-token": str(following)} if following is not None else {}
        return web.json_response(page, headers=headers)

    async def purge(self, instance_id: str) -> web.Response:
        try:
            deleted = await self.engine.purge(instance_id)
        except InstanceNotTerminalError as exc:
            return web.json_response(str(exc), status=412)
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def purge_by(self, request: web.Request) -> web.Response:
        query = query_of(request)
        if query.created_from is None:
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        query.created_to = query.created_to or datetime.now(timezone.utc)
        deleted = await self.engine.purge_by(query)
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def raise_event(self, request: web.Request, instance_id: str, name: str) -> web.Response:
        status = await self.engine.get_record(instance_id)
        if status is None:
            return web.Response(status=404)
        if status.is_terminal:
            return web.Response(status=410)
        if request.content_type.lower() != "application/json":
            return error(400, "Only application/json request content is supported")
        raw = await request.text()
        try:
            data = body_as_json_text(raw) if raw.strip() else "null"
        except ValueError as exc:
            return error(400, "Invalid JSON content", exc)
        return await self._guarded(self.engine.raise_event(instance_id, name, data))

    @staticmethod
    async def _guarded(operation: Any) -> web.Response:
        try:
            await operation
        except InstanceNotFoundError:
            return web.Response(status=404)
        except InstanceGoneError:
            return web.Response(status=410)
        return web.Response(status=202)


def management_payload(base_url: str, hub: str, key: str | None, instance_id: str, connection: str = "Storage") -> dict:
    """The check-status payload: public URLs of one instance, with the key in `code` when given (the binding's
    payload); HTTP answers get them without a key: the caller holds its own, and no answer hands one out."""
    query = f"taskHub={hub}&connection={connection}" + (f"&code={key}" if key else "")
    instance = f"{base_url}/runtime/webhooks/durabletask/instances/{quote(instance_id, safe='')}"
    return {"id": instance_id, "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}", "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}"}


