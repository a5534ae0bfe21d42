"""Hard input through the whole local stack (dev host running function_app): every route of the app's function index,
and the Event Grid webhook, answer bad input with a 4xx naming the field (events: 202, logged, nothing written).

The routes come from the app's own index, so a route added later is fuzzed too; the OpenAPI document says which
operations take a body and which query parameters are integers.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from local.devhost.settings import read_host_json, route_prefix
from local.stack import SUB_DEV, Stack, call, start_stack
from tests.api.test_openapi_routes import normalized_route, template_params
from tests.conftest import SUB_PROD, SUB_SANDBOX
from tests.retention.conftest import event_body

ROOT = Path(__file__).resolve().parents[2]
YEARLY = "0 0 0 1 1 *"
DEPTH = 20_000
DEEP_BODIES = {"arrays": "[" * DEPTH + "]" * DEPTH,  # 40,000 bytes: under the 64 KiB body limit
               "objects": '{"a":' * (DEPTH // 2) + "1" + "}" * (DEPTH // 2)}
UNICODE_DIGITS = ("²", "١٢", "１０")  # superscript two, Arabic-Indic 12, fullwidth 10: str.isdigit() says yes to each
PATH_VALUES = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}
ANY_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with ExitStack() as processes:
        yield start_stack(processes, state_dir=Path(tmp_path_factory.mktemp("hard-input")), devhost_port=0,
                          retry_after=0, polls=1, log=lambda *args, **kwargs: None,
                          extra_env={"AML_LIFECYCLE_SWEEP_SCHEDULE": YEARLY, "AML_LIFECYCLE_BACKFILL_SCHEDULE": YEARLY})


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))


def app_routes(functions: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, /api/path template) of every HTTP function the app indexes."""
    prefix = route_prefix(read_host_json(ROOT))
    found = []
    for function in functions.values():
        for raw in function.get_raw_bindings():
            binding = json.loads(raw)
            if binding.get("type") == "httpTrigger":
                path = normalized_route(prefix, binding.get("route") or function.get_function_name())
                found += [(str(m).upper(), path) for m in binding.get("methods") or []]
    assert found
    return sorted(found)


def fill(path: str, value: str | None = None) -> str:
    for name in template_params(path):
        path = path.replace("{" + name + "}", urllib.request.quote(value or PATH_VALUES.get(name, ANY_ID), safe=""))
    return path


def send(stack: Stack, method: str, path: str, data: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{stack.devhost.url}{path}", data=data, method=method,
                                     headers={"x-functions-key": stack.devhost.key,
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def operation(document: dict, method: str, path: str) -> dict:
    relative = path[len("/api"):] if path.startswith("/api/") else path
    return (document["paths"].get(relative) or {}).get(method.lower()) or {}


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_deep_nesting_on_every_route_is_a_4xx(stack, functions, document, shape):
    body = DEEP_BODIES[shape].encode()
    answers = {}
    for method, path in app_routes(functions):
        status, reply = send(stack, method, fill(path), body)
        answers[(method, path)] = status
        assert status < 500, (method, path, status, reply)
        if "requestBody" in operation(document, method, path):
            assert status == 400 and reply["error"]["target"] == "body", (method, path, reply)
            assert "nests deeper than 64 levels" in reply["error"]["message"]
    assert any(method == "POST" for method, _ in answers)  # the routes that take a body were among them


def query_parameters(document: dict, method: str, path: str) -> list[dict]:
    return [p for p in operation(document, method, path).get("parameters") or [] if p.get("in") == "query"]


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_every_parameter_are_a_4xx(stack, functions, document, digits):
    for method, path in app_routes(functions):
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        if template_params(path):
            status, reply = send(stack, method, fill(path, digits), body)
            assert status < 500, (method, path, status, reply)
        for parameter in query_parameters(document, method, path):
            query = f"?{parameter['name']}={urllib.request.quote(digits)}"
            status, reply = send(stack, method, fill(path) + query, body)
            assert status < 500, (method, path, parameter["name"], status, reply)
            if (parameter.get("schema") or {}).get("type") in ("integer", "number"):
                assert status == 400 and reply["error"]["target"] == parameter["name"], (method, path, reply)


def test_top_with_a_unicode_digit_names_top(stack):
    status, reply = send(stack, "GET", "/api/retention?top=%C2%B2")
    assert (status, reply["error"]["target"]) == (400, "top")


def webhook(stack: Stack, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{stack.devhost.url}/runtime/webhooks/eventgrid?functionName=workspace_events", data=body, method="POST",
        headers={"aeg-event-type": "Notification", "Content-Type": "application/json",
                 "x-functions-key": stack.devhost.eventgrid_key})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def ledger_row(stack: Stack, sub: str, group: str, name: str) -> Any:
    status, body = call(stack, "GET", f"retention/{sub}/{group}/{name}")
    return body if status == 200 else None


def test_webhook_acknowledges_bad_events_and_applies_only_the_trusted_one(stack):
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    offset = event_body("delete", "ws-quiet", at=at)
    offset["eventTime"] = (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S") + "+01:00"  # valid RFC 3339
    unparsable = event_body("delete", "ws-online", at=at)
    unparsable["eventTime"] = "03/12/2026 10:00 CET"
    forged = event_body("delete", "ws-twin", at=at)
    forged["topic"] = f"/subscriptions/{SUB_PROD}"  # resourceUri in SUB_DEV
    unwatched = event_body("delete", "ws-sandbox", at=at, sub=SUB_SANDBOX, rg="rg-sandbox")
    future = event_body("delete", "ws-batch", at=datetime.now(timezone.utc) + timedelta(days=300))
    status, text = webhook(stack, json.dumps([offset, unparsable, forged, unwatched, future]).encode())
    assert status == 202, text  # one 2xx for the batch: Event Grid does not retry it for 24 h
    row = ledger_row(stack, SUB_DEV, "rg-ml-dev", "ws-quiet")
    assert row is not None and datetime.fromisoformat(row["deletedAt"].replace("Z", "+00:00")) == at
    assert [ledger_row(stack, SUB_DEV, "rg-ml-dev", name) for name in ("ws-online", "ws-twin", "ws-batch")] == [None] * 3
    assert ledger_row(stack, SUB_SANDBOX, "rg-sandbox", "ws-sandbox") is None
    log = stack.devhost.logs()
    assert re.search(r"eventTime '03/12/2026 10:00 CET' is not an RFC 3339 date-time", log)
    assert "more than 10 minutes after it was received" in log and "is not watched" in log


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_webhook_refuses_a_deeply_nested_body_before_the_function(stack, shape):
    status, text = webhook(stack, DEEP_BODIES[shape].encode())
    assert status == 400 and "nests deeper than 64 levels" in text
