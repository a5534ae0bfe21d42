"""Fixtures for the ARM simulator tests: one simulator per session, reset per test, real SDK clients."""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from typing import Any, Callable, Iterator

import pytest
from aiohttp import web
from azure.core.credentials import AccessToken
from azure.core.pipeline import policies
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

from local.armsim.process import RunningSimulator, start_simulator
from local.seed import (  # noqa: F401  (used by the test modules)
    FOREIGN_TENANT,
    SCENARIO,
    SUB_DEV,
    SUB_PARTNER,
    SUB_PROD,
    SUB_SANDBOX,
    TENANT,
    rg_id,
    ws_id,
)
from local.waiting import wait_until

ML_API = "2025-09-01"


def dep_id(kind: str, name: str, sub: str = SUB_DEV, rg: str = "rg-ml-dev") -> str:
    provider = {"st": "Microsoft.Storage/storageAccounts", "kv": "Microsoft.KeyVault/vaults",
                "appi": "Microsoft.Insights/components", "cr": "Microsoft.ContainerRegistry/registries",
                "pe": "Microsoft.Network/privateEndpoints"}[kind]
    return f"{rg_id(sub, rg)}/providers/{provider}/{name}"


class StaticTokenCredential:
    """A TokenCredential that always returns the simulator's token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    return wait_until(predicate, timeout=timeout, interval=interval)


@pytest.fixture(scope="session")
def token() -> str:
    return secrets.token_hex(24)


@pytest.fixture(scope="session")
def armsim(tmp_path_factory: pytest.TempPathFactory, token: str) -> Iterator[RunningSimulator]:
    with start_simulator(tmp_path_factory.mktemp("armsim"), token=token, scenario=SCENARIO, topic_key="topic-key",
                         retry_after=0, polls=2, delivery_retry_delays=(0.05, 0.05, 0.1)) as running:
        yield running


@pytest.fixture
def simulator(armsim: RunningSimulator) -> RunningSimulator:
    """The simulator reset to the seed, with no faults, requests, subscribers or published events left."""
    for method, path in (("POST", "/_sim/reset"), ("DELETE", "/_sim/faults"), ("DELETE", "/_sim/requests"),
                         ("DELETE", "/_sim/eventgrid/subscriptions"), ("DELETE", "/_sim/eventgrid/deliveries"),
                         ("DELETE", "/_sim/moves/fail"), ("DELETE", "/_sim/topics/alerts/events")):
        armsim.control(method, path)
    armsim.control("DELETE", "/_sim/requests")
    return armsim


@pytest.fixture
def credential(token: str) -> StaticTokenCredential:
    return StaticTokenCredential(token)


@pytest.fixture
def client_kwargs(simulator: RunningSimulator) -> dict:
    return {"base_url": simulator.url, "credential_scopes": [simulator.url + "/.default"],
            "connection_verify": simulator.ca_bundle, "polling_interval": 0}


@pytest.fixture
def resources(credential, client_kwargs):
    from azure.mgmt.resource.resources import ResourceManagementClient
    return ResourceManagementClient(credential, SUB_DEV, **client_kwargs)


@pytest.fixture
def ml(simulator: RunningSimulator, credential) -> ARMPipelineClient:
    """The thin ARMPipelineClient an ML gateway would use."""
    return ARMPipelineClient(
        base_url=simulator.url, connection_verify=simulator.ca_bundle,
        policies=[policies.RequestIdPolicy(), policies.HeadersPolicy(), policies.UserAgentPolicy("armsim-tests"),
                  policies.RetryPolicy(), ARMChallengeAuthenticationPolicy(credential, simulator.url + "/.default"),
                  policies.ContentDecodePolicy()])


class Receiver:
    """An aiohttp webhook in a background thread: answers the validation handshake, records deliveries."""

    def __init__(self) -> None:
        self.batches: list[list[dict]] = []
        self.handshakes: list[dict] = []
        self.headers: list[dict] = []
        self.fail_next = 0
        self.failed = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method == "OPTIONS":
            return web.Response(status=200, headers={"WebHook-Allowed-Origin": request.headers.get("WebHook-Request-Origin", "")})
        body = await request.json()
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            self.handshakes.append(body[0])
            return web.json_response({"validationResponse": body[0]["data"]["validationCode"]})
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failed += 1
            return web.json_response({"error": "try later"}, status=503)
        self.headers.append(dict(request.headers))
        self.batches.append(body if isinstance(body, list) else [body])
        return web.Response(status=200)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/events", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/events"

    def start(self) -> "Receiver":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def events(self) -> list[dict]:
        return [e for batch in self.batches for e in batch]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver().start()
    yield rec
    rec.stop()


def call(ml: ARMPipelineClient, method: str, path: str, body: dict | None = None, **params: str):
    """One ML call through the ARM pipeline (path relative to the simulator; api-version 2025-09-01)."""
    from azure.core.rest import HttpRequest
    request = HttpRequest(method, ml.format_url(path), params={"api-version": ML_API, **params}, json=body)
    return ml.send_request(request)
