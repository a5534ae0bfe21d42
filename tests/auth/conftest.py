"""Fixtures for the sign-in tests: the real app on a dev host with AML_LIFECYCLE_AUTH=entra (App Service
Authentication emulated, tokens from its local issuer), against Azurite and the ARM simulator."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
import requests

from tests.conftest import SUB_DEV, SUB_PROD, TOPIC, rg_id


@pytest.fixture(scope="module")
def entra_host(azurite: Any, arm_simulator: Any, sim_token: str, topic_key: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local.devhost.process import start_devhost

    env = {
        "AML_LIFECYCLE_AUTH": "entra",
        "AML_LIFECYCLE_DEV_ISSUER_FILE": str(tmp_path_factory.mktemp("issuer") / "issuer.json"),
        "WEBSITE_AUTH_ENABLED": None,  # the dev host sets it, as the platform does
        "AML_LIFECYCLE_TABLES": azurite.connection_string,
        "AzureWebJobsStorage": None,  # Durable state in memory
        "AML_LIFECYCLE_ARM_ENDPOINT": arm_simulator.url,
        "AML_LIFECYCLE_ARM_CA_BUNDLE": arm_simulator.ca_bundle,
        "REQUESTS_CA_BUNDLE": arm_simulator.ca_bundle,
        "AML_LIFECYCLE_LOCAL_TOKEN": sim_token,
        "AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT": f"{arm_simulator.url}/_sim/topics/{TOPIC}/api/events",
        "AML_LIFECYCLE_ALERTS_TOPIC_KEY": topic_key,
        "AML_LIFECYCLE_ALLOWED_TARGETS": f"{SUB_PROD},{rg_id(SUB_DEV, 'rg-ml-dev-2')}",
        "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": f"{SUB_DEV},{SUB_PROD}",
        "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
        "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 0 0 1 1 *",
    }
    with start_devhost("function_app:app", app_dir=tmp_path_factory.mktemp("app"), env=env, timeout=60) as host:
        assert host.auth == "entra"
        yield host


def http_routes(host: Any) -> list[tuple[str, str, str]]:
    """(function name, method, URL with each {param} filled) for every HTTP function the dev host indexed."""
    found = []
    for function in host.functions:
        if function["trigger"] != "httpTrigger":
            continue
        url = re.sub(r"\{([^}:?]+)[^}]*\}", lambda m: f"unknown-{m.group(1)}", function["url"])
        for method in function.get("methods") or ["GET"]:
            found.append((function["name"], method, url))
    return sorted(found)


def call(method: str, url: str, headers: dict[str, str] | None = None, body: Any = None) -> requests.Response:
    if method in ("POST", "PUT", "PATCH") and body is None:
        body = {}
    return requests.request(method, url, headers=headers or {}, json=body, timeout=60)
