"""openapi.yaml and the app's HTTP functions agree: the same (method, path) both ways, operationId = function name,
the same path parameter names, and the function key on every keyed operation. The document is valid OpenAPI 3."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from openapi_spec_validator import validate

from local.devhost.settings import read_host_json, route_prefix

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
KEY_LOCATIONS = {("header", "x-functions-key"), ("query", "code")}
_ROUTE_PARAM = re.compile(r"\{\*?([^{}:=?]+)[^{}]*\}")  # {name}, {name:int}, {name?}, {name=default}, {*rest}


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # /api/moves/{moveId}
    name: str  # function name / operationId
    params: tuple[str, ...]  # path parameter names in template order
    auth_level: str = "FUNCTION"

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.name})"


def normalized_route(prefix: str, route: str) -> str:
    """`/api/` + the route template, every parameter spec reduced to `{name}` (as OpenAPI writes it)."""
    parts = [p for p in (prefix.strip("/"), route.strip("/")) if p]
    return "/" + _ROUTE_PARAM.sub(lambda m: "{" + m.group(1) + "}", "/".join(parts))


def template_params(path: str) -> tuple[str, ...]:
    return tuple(_ROUTE_PARAM.findall(path))


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def app_operations(functions: dict[str, Any]) -> dict[tuple[str, str], Operation]:
    """(METHOD, /api/path) -> the HTTP function serving it, from the real app's indexed bindings."""
    prefix = route_prefix(read_host_json(ROOT))
    operations: dict[tuple[str, str], Operation] = {}
    for name, function in sorted(functions.items()):
        trigger = next((json.loads(b) for b in function.get_raw_bindings()
                        if json.loads(b).get("type") == "httpTrigger"), None)
        if trigger is None:
            continue
        methods = [str(m).upper() for m in trigger.get("methods") or []]
        assert methods, f"HTTP function {name} accepts every method; list them so the document can say which"
        path = normalized_route(prefix, trigger.get("route") or name)
        level = str(trigger.get("authLevel") or "FUNCTION").upper()
        for method in methods:
            assert (method, path) not in operations, f"{method} {path}: {name} and {operations[(method, path)].name}"
            operations[(method, path)] = Operation(method, path, name, template_params(path), level)
    assert operations, "the app registers no HTTP function"
    return operations


def _resolve(document: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        assert node["$ref"].startswith("#/"), f"only local references are expected: {node['$ref']}"
        for part in node["$ref"][2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _server_prefix(document: dict) -> str:
    prefixes = {urlparse(server["url"]).path.rstrip("/") for server in document.get("servers") or [{"url": "/"}]}
    assert len(prefixes) == 1, f"every server should have the same base path, got {sorted(prefixes)}"
    return prefixes.pop()


@pytest.fixture(scope="module")
def documented(document: dict) -> dict[tuple[str, str], tuple[Operation, dict, list[dict]]]:
    """(METHOD, /api/path) -> (Operation, the operation object, its resolved parameters incl. the path item's)."""
    base = _server_prefix(document)
    found = {}
    for path, item in (document.get("paths") or {}).items():
        item = _resolve(document, item)
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            full = normalized_route(base, path)
            by_key = {}
            for parameter in [_resolve(document, p) for p in item.get("parameters") or []] + \
                             [_resolve(document, p) for p in operation.get("parameters") or []]:
                by_key[(parameter.get("in"), parameter.get("name"))] = parameter  # operation-level wins
            op = Operation(method.upper(), full, operation.get("operationId") or "", template_params(full))
            found[(op.method, op.path)] = (op, operation, list(by_key.values()))
    return found


def test_the_document_is_valid_openapi(document: dict) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_http_function_is_documented(app_operations: dict, documented: dict) -> None:
    missing = [str(op) for key, op in sorted(app_operations.items()) if key not in documented]
    assert not missing, f"routes the app defines that openapi.yaml does not document: {missing}"


def test_every_documented_operation_has_a_function(app_operations: dict, documented: dict) -> None:
    extra = [f"{op.method} {op.path} (operationId {op.name})" for key, (op, _, _) in sorted(documented.items())
             if key not in app_operations]
    assert not extra, f"operations openapi.yaml documents that no HTTP function serves: {extra}"


def test_operation_ids_are_function_names(app_operations: dict, documented: dict) -> None:
    wrong = [f"{op}: operationId is {documented[key][0].name!r}" for key, op in sorted(app_operations.items())
             if key in documented and documented[key][0].name != op.name]
    assert not wrong, wrong
    ids = [op.name for op, _, _ in documented.values()]
    assert len(ids) == len(set(ids)), f"duplicate operationIds: {sorted(i for i in ids if ids.count(i) > 1)}"


def test_path_parameters_match_the_route(app_operations: dict, documented: dict) -> None:
    problems = []
    for key, (op, _, parameters) in sorted(documented.items()):
        declared = [p["name"] for p in parameters if p.get("in") == "path"]
        if sorted(declared) != sorted(op.params):
            problems.append(f"{op.method} {op.path}: path parameters declared {declared}, template has {list(op.params)}")
        problems += [f"{op.method} {op.path}: path parameter {p['name']} is not required"
                     for p in parameters if p.get("in") == "path" and p.get("required") is not True]
        # The function this operation documents: same (method, path), else same operationId and method.
        function = app_operations.get(key) or next(
            (f for f in app_operations.values() if (f.name, f.method) == (op.name, op.method)), None)
        if function is not None and function.params != op.params:
            problems.append(f"{op.method} {op.path}: the route of {function.name} is {function.path}, "
                            f"parameters {list(function.params)}")
    assert not problems, problems


def _key_schemes(document: dict) -> set[str]:
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return {name for name, scheme in schemes.items()
            if _resolve(document, scheme).get("type") == "apiKey"
            and (_resolve(document, scheme).get("in"), _resolve(document, scheme).get("name")) in KEY_LOCATIONS}


def test_keyed_operations_declare_the_function_key(document: dict, app_operations: dict, documented: dict) -> None:
    key_schemes = _key_schemes(document)
    bearer_schemes = {name for name, scheme in ((document.get("components") or {}).get("securitySchemes") or {}).items()
                      if _resolve(document, scheme).get("scheme") == "bearer"}
    assert key_schemes, "components.securitySchemes has no apiKey scheme for x-functions-key (header) or code (query)"
    problems = []
    for key, (op, operation, _) in sorted(documented.items()):
        requirements = operation.get("security", document.get("security")) or []
        function = app_operations.get(key)
        if function is not None and function.auth_level == "ANONYMOUS":
            if requirements and {} not in requirements:
                problems.append(f"{op.method} {op.path}: {function.name} is anonymous but the document wants a key")
            continue
        # Every alternative must be satisfied by a function key alone (and there must be at least one), or be the
        # Entra bearer token of AML_LIFECYCLE_AUTH=entra (docs/auth.md).
        keyed = [r for r in requirements if r and set(r) <= key_schemes]
        if not keyed or any(r not in keyed and set(r) != bearer_schemes for r in requirements):
            problems.append(f"{op.method} {op.path}: security {requirements} is not the function key "
                            f"({sorted(key_schemes)})")
    assert not problems, problems


def test_route_normalization() -> None:
    assert normalized_route("api", "things/{kind}/{id:int}") == "/api/things/{kind}/{id}"
    assert normalized_route("", "files/{*path}") == "/files/{path}"
    assert normalized_route("/api/", "/page/{n=1}/{x:int?}") == "/api/page/{n}/{x}"
    assert template_params("/api/retention/{subscriptionId}/{resourceGroup}/{workspaceName}") == (
        "subscriptionId", "resourceGroup", "workspaceName")
