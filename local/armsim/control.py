"""The loopback-only /_sim control API: request log, faults, Event Grid subscribers, reset, state, move failures,
subscriptions and management groups added while running, page sizes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import control_lifecycle, control_scenarios, ids
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
        spec = {k: body[k] for k in ("code", "message", "detailCode", "afterPolls", "status") if k in body}
        sim.state.move_failures.extend(dict(spec) for _ in range(count))
        return web.json_response({"pending": len(sim.state.move_failures)}, status=201)

    async def clear_move_failures(_request: web.Request) -> web.Response:
        sim.state.move_failures.clear()
        return web.Response(status=204)

    control_scenarios.register(app, sim)
    async def add_subscription(request: web.Request) -> web.Response:
        """A subscription created while running (a vending process): listed from the next request on."""
        body = await read_json_object(request)
        sub_id, tenant = body.get("subscriptionId"), body.get("tenantId") or next(iter(sim.state.tenants), None)
        if not isinstance(sub_id, str) or not ids.is_guid(sub_id):
            raise ArmError(400, "InvalidSubscriptionId", "subscriptionId must be a GUID.")
        if sim.state.subscription(sub_id) is not None:
            raise ArmError(409, "SubscriptionExists", f"The subscription '{sub_id}' already exists.")
        group = body.get("managementGroup")
        if group is not None and group.lower() not in sim.state.management_groups:
            raise ArmError(400, "InvalidManagementGroup", f"No management group '{group}'.")
        sim.state.add_subscription({**{k: body[k] for k in ("displayName", "state", "notRegistered") if k in body},
                                    "subscriptionId": sub_id, "tenantId": tenant})
        if group is not None:
            sim.state.place_subscription(sub_id, group)
        return web.json_response({"subscriptionId": sub_id, "tenantId": tenant}, status=201)

    async def add_management_group(request: web.Request) -> web.Response:
        body = await read_json_object(request)
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise ArmError(400, "InvalidName", "name is required.")
        parent = body.get("parent")
        if parent is not None and parent.lower() not in sim.state.management_groups:
            raise ArmError(400, "InvalidManagementGroup", f"No parent management group '{parent}'.")
        unknown = [s for s in body.get("subscriptions", []) if sim.state.subscription(s) is None]
        if unknown:
            raise ArmError(400, "InvalidSubscriptionId", f"Unknown subscription(s): {', '.join(unknown)}.")
        group = sim.state.add_management_group(body)
        return web.json_response({"name": group["name"], "subscriptions": group["subscriptions"]}, status=201)

    async def set_page_sizes(request: web.Request) -> web.Response:
        body = await read_json_object(request)
        for name, size in body.items():
            if not isinstance(size, int) or size < 1:
                raise ArmError(400, "InvalidPageSize", f"page size {name!r} must be a positive integer.")
        sim.state.page_sizes.update(body)
        return web.json_response(sim.state.page_sizes)

    from . import routes_ml_compute

    routes_ml_compute.register_control(app, sim)  # POST /_sim/ml/creations (how ML creates complete)
    from . import routes_ml_kinds

    routes_ml_kinds.register_control(app, sim)  # POST /_sim/kinds (a hub's projects on delete)
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
    r.add_post("/_sim/subscriptions", add_subscription)
    r.add_post("/_sim/management-groups", add_management_group)
    r.add_put("/_sim/page-sizes", set_page_sizes)
    r.add_delete("/_sim/moves/fail", clear_move_failures)
    control_lifecycle.register(app, sim)
