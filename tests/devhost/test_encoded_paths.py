"""Percent-encoded control characters in a path reach the app's route templates (found by the schemathesis run:
the catch-all route did not match a decoded newline, so aiohttp answered a bare text/plain 404 itself)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import azure.functions as func

from local.devhost.app_loader import FunctionIndex, IndexedFunction
from local.devhost.durable_store import MemoryDurableStore
from local.devhost.http_routes import RouteTemplate
from local.devhost.server import DevHost
from local.devhost.settings import FunctionKey


def test_a_trailing_newline_is_part_of_the_path() -> None:
    assert RouteTemplate.parse("moves/validate").match("moves/validate\n") is None
    assert RouteTemplate.parse("moves/{moveId}").match("moves/a\nb") == {"moveId": "a\nb"}
    assert RouteTemplate.parse("moves/{moveId}").match("moves/ab\n") == {"moveId": "ab\n"}


def _echo(route: str) -> IndexedFunction:
    trigger = {"type": "httpTrigger", "name": "req", "route": route, "methods": ["GET"], "authLevel": "ANONYMOUS"}

    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(repr(dict(req.route_params)), status_code=200)

    return IndexedFunction("echo", trigger, [trigger], handler)


async def test_control_characters_in_a_route_parameter(tmp_path: Path) -> None:
    host = DevHost(None, function_key=FunctionKey("k", False), store=MemoryDurableStore(),
                   index=FunctionIndex({"echo": _echo("retention/{sub}/{rg}/{name}")}))
    url = await host.start(port=0)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/retention/%0Aab/rg%0D/n%09") as response:
                assert response.status == 200
                assert await response.text() == repr({"sub": "\nab", "rg": "rg\r", "name": "n\t"})
            async with session.get(f"{url}/api/nowhere%0A") as response:
                assert (response.status, await response.text()) == (404, "")  # the dev host's own 404
    finally:
        await host.stop()
