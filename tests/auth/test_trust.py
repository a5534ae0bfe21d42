"""Where the principal is believed: only where the platform says App Service Authentication is on; one mode, and
a wrong one stops the start."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import handlers.http
from shared import auth
from tests.conftest import call_http


def principal(*roles: str, name: str = "mallory@contoso.com") -> dict[str, str]:
    document = {"auth_typ": "aad", "claims": [{"typ": "roles", "val": r} for r in roles]
                + [{"typ": "preferred_username", "val": name}], "name_typ": "n", "role_typ": "r"}
    return {"x-ms-client-principal": base64.b64encode(json.dumps(document).encode()).decode()}


def test_a_principal_header_is_not_believed_where_the_platform_does_not_strip_it(functions: dict, app_env: dict,
                                                                                  monkeypatch: Any) -> None:
    import azure.functions as func

    monkeypatch.setattr(handlers.http, "AUTH", auth.ENTRA)
    monkeypatch.delenv("WEBSITE_AUTH_ENABLED", raising=False)
    request = func.HttpRequest("GET", "http://localhost/api/health", headers=principal(*auth.APP_ROLES), body=b"")
    response = functions["health"].get_user_function()(request)
    error = json.loads(response.get_body())["error"]
    assert response.status_code == 500 and error["code"] == "ConfigurationError"
    assert "AML_LIFECYCLE_AUTH" in error["message"] and "WEBSITE_AUTH_ENABLED" in error["message"]

    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")  # now the platform vouches for the header
    ok = functions["health"].get_user_function()(
        func.HttpRequest("GET", "http://localhost/api/health", headers=principal("Retention.Read"), body=b""))
    assert ok.status_code == 200, ok.get_body()


def test_with_keys_no_principal_is_read_and_the_records_name_nobody(functions: dict, app_env: dict) -> None:
    assert handlers.http.AUTH == auth.KEYS  # the suite's mode (tests/conftest.py)
    response = call_http(functions, "coverage")
    assert response.status_code == 200
    assert auth.Caller.function_key().record() == {"via": "functionKey"}


@pytest.mark.parametrize("value, expected", [("entra", "entra"), ("KEYS", "keys"), ("", "entra"), (" Entra ", "entra")])
def test_the_mode(value: str, expected: str) -> None:
    assert auth.auth_mode({"AML_LIFECYCLE_AUTH": value}) == expected


def test_an_unknown_mode_stops_the_dev_host_naming_the_setting(tmp_path: Any) -> None:
    from local.devhost.process import start_devhost

    log = tmp_path / "devhost.log"
    with pytest.raises(RuntimeError):
        start_devhost("function_app:app", app_dir=tmp_path, env={"AML_LIFECYCLE_AUTH": "both"}, log_path=str(log),
                      timeout=30)
    assert "AML_LIFECYCLE_AUTH" in log.read_text() and "'both'" in log.read_text()
