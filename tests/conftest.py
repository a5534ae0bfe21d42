"""Shared fixtures: Azurite, the ARM simulator, app settings, and the app's functions by name."""

from __future__ import annotations

import os
import secrets
from typing import Any, Iterator

import pytest

from local.seed import (  # noqa: F401  (re-exported for the test folders)
    SCENARIO,
    SUB_DEV,
    SUB_PARTNER,
    SUB_PROD,
    SUB_SANDBOX,
    TENANT,
    rg_id,
    ws_id,
)

TOPIC = "alerts"

# The suite's fixtures call the routes with function keys; the sign-in tests (tests/auth) start their own app and
# dev host with AML_LIFECYCLE_AUTH=entra. Set before function_app is imported; every dev host started inherits it.
os.environ["AML_LIFECYCLE_AUTH"] = "keys"


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local.azurite import start_azurite

    with start_azurite(str(tmp_path_factory.mktemp("azurite"))) as running:
        yield running


@pytest.fixture(scope="session")
def sim_token() -> str:
    return secrets.token_hex(24)  # hex: a urlsafe token may start with "-" and read as a CLI flag


@pytest.fixture(scope="session")
def topic_key() -> str:
    return secrets.token_hex(24)  # hex: a urlsafe token may start with "-" and read as a CLI flag


@pytest.fixture(scope="session")
def arm_simulator(tmp_path_factory: pytest.TempPathFactory, sim_token: str, topic_key: str) -> Iterator[Any]:
    from local.armsim.process import start_simulator

    with start_simulator(
        str(tmp_path_factory.mktemp("armsim")), token=sim_token, scenario=str(SCENARIO), topic_key=topic_key,
        retry_after=0, polls=1,
    ) as running:
        yield running


@pytest.fixture
def sim(arm_simulator: Any) -> Iterator[Any]:
    """The simulator, reset to the seeded scenario, with no faults, log or subscribers left by another test."""
    import requests

    def control(method: str, path: str, **kwargs: Any) -> requests.Response:
        response = requests.request(method, f"{arm_simulator.url}/_sim/{path}", verify=arm_simulator.ca_bundle, timeout=30, **kwargs)
        response.raise_for_status()
        return response

    control("POST", "reset")
    control("DELETE", "faults")
    control("DELETE", "requests")
    control("DELETE", "eventgrid/subscriptions")
    control("DELETE", f"topics/{TOPIC}/events")
    arm_simulator.control = control
    yield arm_simulator


@pytest.fixture
def app_env(azurite: Any, sim: Any, sim_token: str, topic_key: str, monkeypatch: pytest.MonkeyPatch, request) -> dict[str, str]:
    """Environment for the app against Azurite and the simulator, with fresh tables per test."""
    from shared.azure.clients import reset_clients

    env = {
        "AML_LIFECYCLE_TABLES": azurite.connection_string,
        "AML_LIFECYCLE_ARM_ENDPOINT": sim.url,
        "AML_LIFECYCLE_ARM_CA_BUNDLE": sim.ca_bundle,
        "AML_LIFECYCLE_LOCAL_TOKEN": sim_token,
        "AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT": f"{sim.url}/_sim/topics/{TOPIC}/api/events",
        "AML_LIFECYCLE_ALERTS_TOPIC_KEY": topic_key,
        "AML_LIFECYCLE_ALLOWED_TARGETS": f"{SUB_PROD},{rg_id(SUB_DEV, 'rg-ml-dev-2')},{SUB_PARTNER},{SUB_SANDBOX}",
        "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": f"{SUB_DEV},{SUB_PROD}",
        # The host refuses an unset %...% schedule; once a year keeps the timers out of the tests' way.
        "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
        "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 0 0 1 1 *",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _clear_tables(azurite.connection_string)
    reset_clients()
    yield env
    reset_clients()


def _clear_tables(connection_string: str) -> None:
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    service = TableServiceClient.from_connection_string(connection_string)
    for name in tables.ALL_TABLES:
        client = service.get_table_client(name)
        try:
            for entity in client.list_entities(select=["PartitionKey", "RowKey"]):
                client.delete_entity(entity["PartitionKey"], entity["RowKey"])
        except Exception:  # table not created yet
            pass


@pytest.fixture(scope="session")
def functions() -> dict[str, Any]:
    """The app's functions by name, indexed once (app.get_functions() may be called once per app)."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}


def call_http(functions: dict[str, Any], name: str, *, method: str = "GET", url: str = "http://localhost/api/",
              body: Any = None, params: dict[str, str] | None = None, route_params: dict[str, str] | None = None):
    """Invoke an HTTP function through its real entry point with an azure.functions.HttpRequest."""
    import json

    import azure.functions as func

    raw = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = func.HttpRequest(method, url, headers={"content-type": "application/json"}, params=params or {},
                               route_params=route_params or {}, body=raw or b"")
    return functions[name].get_user_function()(request)


def log_text(caplog: Any) -> str:
    """Every captured record as written: its message and its structured fields (shared/logs.py), for searches."""
    import json

    from shared.logs import of_record

    return "\n".join(f"{r.getMessage()} {json.dumps(of_record(r), sort_keys=True)}" for r in caplog.records)
