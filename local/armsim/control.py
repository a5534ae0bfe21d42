"""The loopback-only /_sim control API: request log, faults, Event Grid subscribers, reset, state, move failures."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import control_lifecycle
from .errors import ArmError
from .events import SCHEMAS, HandshakeFailed
from .router import read_json_object

if TYPE_CHECKING:
    from .server import Simulator


def register(app: web.Application, sim: "Simulator") -> None:
    async def get_requests(_request: web.Request) -> web.Response:
        return web.json_response(sim.request_log)

    async def clear_requests(_request: web.Request) -> web.Response:
        sim.request_log.clear()
        return web.Response(status=204)

    async def add_fault(request: web.Request) -> web.Response:
        fault = sim.faults.add(await read_json_object(request, required=False))
        return web.json_response(fault.describe(), status=201)

    async def list_faults(_request: web.Request) -> web.Response:
        return web.json_response(sim.faults.list())

    async def clear_faults(_request: web.Request) -> web.Response:
        sim.faults.clear()
        return web.Response(status=204)

    async def add_subscriber(request: web.Request) -> web.Response:
        body = await read_json_object(request, required=False)
        endpoint, schema = body.get("endpoint"), body.get("schema", "EventGridSchema")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ArmError(400, "InvalidEndpoint", "endpoint must be an http(s) URL.")
        if schema not in SCHEMAS:
            raise ArmError(400, "InvalidSchema", f"schema must be one of {', '.join(SCHEMAS)}.")
        try:
            subscriber = await sim.bus.subscribe(endpoint, schema, body.get("subscriptionId"))
        except HandshakeFailed as exc:
            raise ArmError(400, "SubscriptionValidationFailed", f"Webhook validation handshake failed: {exc}") from exc
        return web.json_response(subscriber.describe(), status=201)

    async def list_subscribers(_request: web.Request) -> web.Response:
        return web.json_response([s.describe() for s in sim.bus.subscribers])

    async def clear_subscribers(_request: web.Request) -> web.Response:
        await sim.bus.unsubscribe_all()
        return web.Response(status=204)

    async def deliveries(_request: web.Request) -> web.Response:
        return web.json_response(sim.bus.deliveries)

    async def clear_deliveries(_request: web.Request) -> web.Response:
        sim.bus.deliveries.clear()
        sim.bus.emitted.clear()
        return web.Response(status=204)

    async def emitted(_request: web.Request) -> web.Response:
        return web.json_response(sim.bus.emitted)

    async def reset(_request: web.Request) -> web.Response:
        sim.reset()
        return web.json_response({"reset": True})

    async def state(_request: web.Request) -> web.Response:
        dump = sim.state.dump()
        dump["operations"] = sim.operations.describe()
        dump["faults"] = sim.faults.list()
        return web.json_response(dump)

    async def fail_moves(request: web.Request) -> web.Response:
        body = await read_json_object(request, required=False)
        count = int(body.get("count", 1))
        if count < 1:
            raise ArmError(400, "InvalidCount", "count must be at least 1.")
        spec = {k: body[k] for k in ("code", "message", "detailCode", "afterPolls") if k in body}
        sim.state.move_failures.extend(dict(spec) for _ in range(count))
        return web.json_response({"pending": len(sim.state.move_failures)}, status=201)

    async def clear_move_failures(_request: web.Request) -> web.Response:
        sim.state.move_failures.clear()
        return web.Response(status=204)

    r = app.router
    r.add_get("/_sim/requests", get_requests)
    r.add_delete("/_sim/requests", clear_requests)
    r.add_post("/_sim/faults", add_fault)
    r.add_get("/_sim/faults", list_faults)
    r.add_delete("/_sim/faults", clear_faults)
    r.add_post("/_sim/eventgrid/subscriptions", add_subscriber)
    r.add_get("/_sim/eventgrid/subscriptions", list_subscribers)
    r.add_delete("/_sim/eventgrid/subscriptions", clear_subscribers)
    r.add_get("/_sim/eventgrid/deliveries", deliveries)
    r.add_delete("/_sim/eventgrid/deliveries", clear_deliveries)
    r.add_get("/_sim/eventgrid/events", emitted)
    r.add_post("/_sim/reset", reset)
    r.add_get("/_sim/state", state)
    r.add_post("/_sim/moves/fail", fail_moves)
    r.add_delete("/_sim/moves/fail", clear_move_failures)
    control_lifecycle.register(app, sim)
