"""Keys as the Functions host has them: /admin needs the master key, each extension webhook its own system key (or
the master key), a function key opens the app's FUNCTION-level routes only; each lower key gets 401."""

from __future__ import annotations

import pytest

from local.devhost.settings import ADMIN, ANONYMOUS, FUNCTION, SYSTEM, FunctionKey, HostKeys, derive_system_keys
from tests.devhost.conftest import DevHostUnderTest, http

VALIDATION = [{"id": "v1", "topic": "t", "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
               "eventTime": "2024-01-01T00:00:00Z", "dataVersion": "2",
               "data": {"validationCode": "c0de", "validationUrl": "https://x"}}]


def keys_of(devhost: DevHostUnderTest) -> dict[str, str | None]:
    return {"none": None, "wrong": "not-a-key", "function": devhost.key, "durabletask": devhost.durable_key,
            "eventgrid": devhost.eventgrid_key, "master": devhost.master_key}


def call(devhost: DevHostUnderTest, method: str, path: str, key: str | None, how: str = "header", **kwargs) -> int:
    headers = dict(kwargs.pop("headers", {}))
    url = f"{devhost.url}{path}"
    if key is not None and how == "header":
        headers["x-functions-key"] = key
    elif key is not None:
        url += ("&" if "?" in url else "?") + f"code={key}"
    return http(method, url, headers=headers, **kwargs).status


# (method, path, body/headers, the keys that open it, the status they get)
ROUTES = {
    "admin": ("POST", "/admin/functions/nightly", {"body": {"input": ""}}, {"master"}, 202),
    "admin-status": ("GET", "/admin/host/status", {}, {"master"}, 200),
    "durable": ("GET", "/runtime/webhooks/durabletask/instances/no-such-instance", {}, {"durabletask", "master"}, 404),
    "eventgrid": ("POST", "/runtime/webhooks/eventgrid?functionName=record_event",
                  {"body": VALIDATION, "headers": {"aeg-event-type": "SubscriptionValidation"}},
                  {"eventgrid", "master"}, 200),
    "app-route": ("GET", "/api/things/widget/7", {}, {"function", "master"}, 200),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("how", ["header", "query"])
def test_each_route_opens_to_its_keys_only(devhost: DevHostUnderTest, route: str, how: str) -> None:
    method, path, kwargs, opening, status = ROUTES[route]
    seen = {name: call(devhost, method, path, key, how, **kwargs) for name, key in keys_of(devhost).items()}
    assert seen == {name: status if name in opening else 401 for name in seen}


def test_an_empty_header_is_not_replaced_by_the_query_key(devhost: DevHostUnderTest) -> None:
    """The host reads the header when it is present and only then the `code` query parameter."""
    path = f"/api/things/widget/7?code={devhost.key}"
    assert call(devhost, "GET", path, None) == 200
    assert call(devhost, "GET", path, None, headers={"x-functions-key": ""}) == 401


def test_anonymous_route_needs_no_key(devhost: DevHostUnderTest) -> None:
    assert call(devhost, "GET", "/api/ping", None) == 200


def test_system_keys_derive_from_the_master_key_and_differ_from_each_other(devhost: DevHostUnderTest) -> None:
    system = {"durabletask_extension": devhost.durable_key, "eventgrid_extension": devhost.eventgrid_key}
    assert system == derive_system_keys(devhost.master_key)
    assert len({devhost.key, devhost.master_key, *system.values()}) == 4


def test_levels_of_keys_unit() -> None:
    keys = HostKeys.from_environment({"AML_LIFECYCLE_DEV_FUNCTION_KEY": "f", "AML_LIFECYCLE_DEV_MASTER_KEY": "m"})
    assert keys.master == "m" and not keys.master_generated and keys.function.value == "f"
    assert keys.level_of("m") == (ADMIN, "_master")
    assert keys.level_of(keys.system["eventgrid_extension"]) == (SYSTEM, "eventgrid_extension")
    assert keys.level_of("f") == (FUNCTION, "default")
    assert keys.level_of("x") == keys.level_of(None) == (ANONYMOUS, None)
    assert keys.allows("m", SYSTEM, "durabletask_extension") and keys.allows("m", FUNCTION)
    assert not keys.allows(keys.system["eventgrid_extension"], SYSTEM, "durabletask_extension")
    assert not keys.allows("f", SYSTEM) and not keys.allows("f", ADMIN)
    generated = HostKeys.from_environment({})
    assert generated.master_generated and generated.function.generated and generated.master != generated.function.value
    assert HostKeys.single(FunctionKey("k", False)).function.value == "k"
