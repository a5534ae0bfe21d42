"""Fixtures for the dev host tests: a dev host subprocess serving the sample app against Azurite."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from local.devhost.http_routes import durable_client_json
from local.devhost.process import RunningDevHost, start_devhost

SAMPLE_DIR = Path(__file__).resolve().parent
HUB_SETTING = "AzureFunctionsJobHost__extensions__durableTask__hubName"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def http(method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None) -> Reply:
    """One HTTP request (JSON body unless raw is given); never raises on an HTTP error status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = dict(headers or {})
    if data is not None and raw is None:
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def poll(check: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Call check until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def run_client(host: RunningDevHost, hub: str, use: Callable[[Any], Any]) -> Any:
    """Run `use(client)` with the real DurableOrchestrationClient bound to the dev host, then close its session."""
    import azure.durable_functions as df
    from azure.durable_functions.models.utils.http_utils import _close_session

    async def main() -> Any:
        client = df.DurableOrchestrationClient(
            durable_client_json(host.url, host.rpc_url, hub, host.durable_key))
        try:
            return await use(client)
        finally:
            await _close_session()

    return asyncio.run(main())


@dataclass
class DevHostUnderTest:
    host: RunningDevHost
    hub: str
    records: Path

    @property
    def url(self) -> str:
        return self.host.url

    @property
    def key(self) -> str:
        """The function key (the app's FUNCTION-level routes only)."""
        return self.host.key

    @property
    def master_key(self) -> str:
        return self.host.master_key

    @property
    def durable_key(self) -> str:
        return self.host.durable_key

    @property
    def eventgrid_key(self) -> str:
        return self.host.eventgrid_key

    def records_of(self, kind: str) -> list[dict]:
        file = self.records / f"{kind}.jsonl"
        return [json.loads(line) for line in file.read_text().splitlines()] if file.exists() else []

    def client(self, use: Callable[[Any], Any]) -> Any:
        return run_client(self.host, self.hub, use)

    def status(self, instance_id: str, **query: str) -> Reply:
        suffix = "".join(f"&{k}={v}" for k, v in query.items())
        return http("GET", f"{self.url}/runtime/webhooks/durabletask/instances/{instance_id}?code={self.durable_key}{suffix}")

    def wait_status(self, instance_id: str, *statuses: str, timeout: float = 20.0) -> dict:
        wanted = statuses or ("Completed", "Failed", "Terminated")
        return poll(lambda: (lambda s: s if s and s.get("runtimeStatus") in wanted else None)(
            self.status(instance_id).json()), timeout=timeout, what=f"{instance_id} in {wanted}")

    def start(self, name: str, payload: Any = None, instance_id: str | None = None) -> Reply:
        query = f"?instanceId={instance_id}" if instance_id else ""
        return http("POST", f"{self.url}/api/orchestrators/{name}{query}", body=payload,
                    headers={"x-functions-key": self.key})


def launch(records: Path, storage: str, hub: str, *, settings: Path | None = None,
           extra_env: dict[str, str | None] | None = None) -> RunningDevHost:
    env = {"SAMPLE_RECORD_DIR": str(records), "AzureWebJobsStorage": storage, HUB_SETTING: hub,
           "DEVHOST_LOG_LEVEL": "INFO", **(extra_env or {})}
    return start_devhost("sample_app:app", app_dir=SAMPLE_DIR, settings=settings, env=env, timeout=30)


@pytest.fixture(scope="session")
def storage(azurite: Any) -> str:
    return azurite.connection_string


@pytest.fixture(scope="session")
def devhost(tmp_path_factory: pytest.TempPathFactory, storage: str) -> Iterator[DevHostUnderTest]:
    """One dev host for the module tests; its function and master keys come from a local.settings.json file."""
    records = tmp_path_factory.mktemp("devhost-records")
    settings = records / "local.settings.json"
    key, master = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": {
        "AML_LIFECYCLE_DEV_FUNCTION_KEY": key, "AML_LIFECYCLE_DEV_MASTER_KEY": master}}))
    hub = "DevHostTests"
    host = launch(records, storage, hub, settings=settings,
                  extra_env={"AML_LIFECYCLE_DEV_FUNCTION_KEY": None, "AML_LIFECYCLE_DEV_MASTER_KEY": None})
    assert (host.key, host.master_key) == (key, master)
    try:
        yield DevHostUnderTest(host, hub, records)
    finally:
        host.stop()
        print(host.logs()[-4000:])
