"""The dev host serves the app's OpenAPI document at /api/openapi.yaml and /api/openapi.json, never over an app route."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import azure.functions as func
import pytest
import yaml

from local.devhost.app_loader import FunctionIndex, IndexedFunction
from local.devhost.durable_store import MemoryDurableStore
from local.devhost.process import start_devhost
from local.devhost.server import DevHost
from local.devhost.settings import FunctionKey
from tests.devhost.conftest import http

SAMPLE_APP = "tests.devhost.sample_app:app"  # importable from anywhere: start_devhost puts the repo on PYTHONPATH
DOCUMENT = """openapi: 3.0.3
info: {title: sample, version: 1.0.0, description: "served by the dev host"}
paths:
  /ping:
    get: {operationId: ping, responses: {"200": {description: pong}}}
"""
NO_STORAGE = {"AzureWebJobsStorage": None}  # memory durable store: these tests need no Azurite


def test_document_from_the_app_dir_is_served_anonymously(tmp_path: Path) -> None:
    (tmp_path / "openapi.yaml").write_text(DOCUMENT)
    with start_devhost(SAMPLE_APP, app_dir=tmp_path, env=NO_STORAGE) as host:
        as_yaml = http("GET", f"{host.url}/api/openapi.yaml")
        assert as_yaml.status == 200
        assert as_yaml.headers["content-type"].startswith("application/yaml")
        assert as_yaml.body.decode() == DOCUMENT

        as_json = http("GET", f"{host.url}/api/openapi.json")
        assert as_json.status == 200
        assert as_json.headers["content-type"].startswith("application/json")
        assert as_json.json() == yaml.safe_load(DOCUMENT)

        assert http("HEAD", f"{host.url}/api/openapi.yaml").status == 200
        assert http("GET", f"{host.url}/api/OpenAPI.json").status == 200  # routes are case-insensitive
        assert http("POST", f"{host.url}/api/openapi.yaml", body={}).status == 404
        assert http("GET", f"{host.url}/openapi.yaml").status == 404  # only under the route prefix
        assert http("GET", f"{host.url}/api/openapi.yml").status == 404

        # The app's own routes are untouched, keys included.
        assert http("GET", f"{host.url}/api/ping").status == 200
        assert http("GET", f"{host.url}/api/things/widget/1").status == 401

        # Read on every request: an edit shows without a restart, a removed file is a 404.
        (tmp_path / "openapi.yaml").write_text(DOCUMENT.replace("sample", "edited"))
        assert http("GET", f"{host.url}/api/openapi.json").json()["info"]["title"] == "edited"
        (tmp_path / "openapi.yaml").unlink()
        assert http("GET", f"{host.url}/api/openapi.yaml").status == 404


def test_the_openapi_option_overrides_the_app_dir_document(tmp_path: Path) -> None:
    (tmp_path / "openapi.yaml").write_text(DOCUMENT)
    other = tmp_path / "elsewhere" / "api.yaml"
    other.parent.mkdir()
    other.write_text(DOCUMENT.replace("sample", "override"))
    with start_devhost(SAMPLE_APP, app_dir=tmp_path, env=NO_STORAGE, openapi=other) as host:
        assert yaml.safe_load(http("GET", f"{host.url}/api/openapi.yaml").body)["info"]["title"] == "override"
        assert http("GET", f"{host.url}/api/openapi.json").json()["info"]["title"] == "override"


def test_no_document_without_the_file(tmp_path: Path) -> None:
    with start_devhost(SAMPLE_APP, app_dir=tmp_path, env=NO_STORAGE) as host:
        assert http("GET", f"{host.url}/api/openapi.yaml").status == 404
        assert http("GET", f"{host.url}/api/openapi.json").status == 404
        assert http("GET", f"{host.url}/api/ping").status == 200


# ---- in-process: app routes always win over the document ----------------------------------------------------------

def _route(name: str, route: str, methods: list[str], level: str = "ANONYMOUS") -> IndexedFunction:
    trigger = {"type": "httpTrigger", "name": "req", "route": route, "methods": methods, "authLevel": level}

    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(f"{name} {req.method}", status_code=200)

    return IndexedFunction(name, trigger, [trigger], handler)


async def _serve(tmp_path: Path, *functions: IndexedFunction, document: str = DOCUMENT):
    (tmp_path / "openapi.yaml").write_text(document)
    index = FunctionIndex({f.name: f for f in functions})
    host = DevHost(None, function_key=FunctionKey("k", False), store=MemoryDurableStore(), index=index,
                   openapi=tmp_path / "openapi.yaml")
    return host, await host.start(port=0)


async def _get(url: str, method: str = "GET") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.request(method, url) as response:
        return response.status, await response.text()


@pytest.mark.parametrize("functions, expected", [
    # An app function on the same path answers, even for another method (the app owns the path).
    ([_route("own_json", "openapi.json", ["GET"])], {"openapi.json": (200, "own_json GET"), "openapi.yaml": (200, None)}),
    ([_route("post_only", "openapi.json", ["POST"])], {"openapi.json": (404, ""), "openapi.yaml": (200, None)}),
    ([_route("catch_all", "{*rest}", ["GET"], "FUNCTION")], {"openapi.json": (401, ""), "openapi.yaml": (401, "")}),
    ([_route("by_name", "{name}", ["GET"])], {"openapi.json": (200, "by_name GET"), "openapi.yaml": (200, "by_name GET")}),
])
async def test_an_app_route_is_never_shadowed(tmp_path: Path, functions: list, expected: dict) -> None:
    host, url = await _serve(tmp_path, *functions)
    try:
        for name, (status, text) in expected.items():
            got_status, got_text = await _get(f"{url}/api/{name}")
            assert got_status == status, name
            if text is not None:
                assert got_text == text, name
            else:
                assert yaml.safe_load(got_text) == yaml.safe_load(DOCUMENT)
    finally:
        await host.stop()


async def test_a_broken_document_is_a_500_with_the_reason_as_json_and_verbatim_as_yaml(tmp_path: Path) -> None:
    host, url = await _serve(tmp_path, document="openapi: [unclosed\n")
    try:
        status, text = await _get(f"{url}/api/openapi.json")
        assert status == 500 and "openapi.yaml does not parse" in text
        assert await _get(f"{url}/api/openapi.yaml") == (200, "openapi: [unclosed\n")
    finally:
        await host.stop()
