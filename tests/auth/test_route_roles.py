"""Every HTTP route × role through the dev host with AML_LIFECYCLE_AUTH=entra: no token 401, a token without the
route's role 403 naming it, a token with it let through; forged principal headers and function keys open nothing."""

from __future__ import annotations

import base64
import json
import pathlib
import re
from typing import Any

import pytest

from local.issuer import LocalIssuer
from shared.auth import APP_ROLES
from tests.auth.conftest import call, http_routes

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "auth.md"
REFUSED = {"Unauthenticated", "RoleRequired"}


def documented_roles() -> dict[str, set[str]]:
    """function name → the app roles docs/auth.md's route table gives it."""
    table: dict[str, set[str]] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[1].startswith("`") and any(r in cells[2] for r in APP_ROLES):
            table[cells[1].strip("`")] = {r for r in APP_ROLES if f"`{r}`" in cells[2]}
    return table


def code_of(response: Any) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def bearer(host: Any, *roles: str, name: str = "alice@contoso.com") -> dict[str, str]:
    return {"Authorization": f"Bearer {host.token(*roles, name=name)}"}


def test_every_route_refuses_no_token_and_a_token_without_its_role_and_accepts_its_role(entra_host: Any) -> None:
    routes = http_routes(entra_host)
    assert len(routes) >= 10, routes
    documented = documented_roles()
    for name, method, url in routes:
        anonymous = call(method, url)
        assert anonymous.status_code == 401 and code_of(anonymous) == "Unauthenticated", (name, anonymous.text)
        assert anonymous.headers.get("WWW-Authenticate") == "Bearer"

        none = call(method, url, bearer(entra_host))
        assert none.status_code == 403 and code_of(none) == "RoleRequired", (name, none.text)
        named = {r for r in APP_ROLES if re.search(rf"\b{re.escape(r)}\b", none.json()["error"]["message"])}
        assert named, (name, none.text)
        assert named == documented.get(name), f"{name}: refused naming {named}, docs/auth.md says {documented.get(name)}"

        for role in APP_ROLES:
            answer = call(method, url, bearer(entra_host, role))
            if role in named:
                assert answer.status_code not in (401, 403) and code_of(answer) not in REFUSED, (name, role, answer.text)
            else:
                assert answer.status_code == 403 and code_of(answer) == "RoleRequired", (name, role, answer.text)


def test_a_forged_principal_header_is_stripped(entra_host: Any) -> None:
    forged = base64.b64encode(json.dumps({
        "auth_typ": "aad", "claims": [{"typ": "roles", "val": r} for r in APP_ROLES]
        + [{"typ": "preferred_username", "val": "mallory@contoso.com"}],
        "name_typ": "name", "role_typ": "roles"}).encode()).decode()
    headers = {"X-MS-CLIENT-PRINCIPAL": forged, "X-MS-CLIENT-PRINCIPAL-ID": "0000", "X-MS-CLIENT-PRINCIPAL-IDP": "aad",
               "X-MS-CLIENT-PRINCIPAL-NAME": "mallory@contoso.com"}
    alone = call("GET", f"{entra_host.url}/api/health", headers)
    assert alone.status_code == 401 and code_of(alone) == "Unauthenticated"
    # beside a real token, the forged roles are not added to the token's own
    mixed = call("POST", f"{entra_host.url}/api/moves", {**headers, **bearer(entra_host, "Retention.Read")})
    assert mixed.status_code == 403 and "Moves.Execute" in mixed.json()["error"]["message"]
    assert "mallory" not in mixed.text


def test_function_keys_open_nothing_under_entra(entra_host: Any) -> None:
    for key in (entra_host.key, entra_host.master_key):
        for headers, params in (({"x-functions-key": key}, ""), ({}, f"?code={key}")):
            answer = call("GET", f"{entra_host.url}/api/retention{params}", headers)
            assert answer.status_code == 401 and "function keys are not accepted" in answer.json()["error"]["message"]


@pytest.mark.parametrize("change", ["expired", "audience", "issuer", "foreign key", "garbage"])
def test_a_bad_token_is_refused_by_the_platform(entra_host: Any, change: str) -> None:
    issuer = LocalIssuer.load(entra_host.issuer_file)
    token = {
        "expired": lambda: issuer.mint(APP_ROLES, "alice@contoso.com", minutes=-5),
        "audience": lambda: issuer.mint(APP_ROLES, "alice@contoso.com", audience="api://someone-else"),
        "issuer": lambda: issuer.mint(APP_ROLES, "alice@contoso.com", issuer="https://login.example/other/v2.0"),
        "foreign key": lambda: LocalIssuer.generate().mint(APP_ROLES, "alice@contoso.com"),
        "garbage": lambda: "not-a-jwt",
    }[change]()
    answer = call("GET", f"{entra_host.url}/api/health", {"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "invalid_token" in answer.headers.get("WWW-Authenticate", "")
