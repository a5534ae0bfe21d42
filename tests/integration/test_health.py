"""`GET /api/health` against Azurite and the ARM simulator, and with each part down."""

import json

from azure.core.exceptions import ClientAuthenticationError

from local.ports import free_port
from shared.azure.clients import AzureClients
from shared.health import check_health
from shared.settings import Settings
from tests.conftest import call_http


def _report(response):
    return response.status_code, json.loads(response.get_body())


def test_healthy_when_storage_arm_and_identity_answer(app_env, functions):
    status, report = _report(call_http(functions, "health"))
    assert status == 200, report
    assert report["status"] == "healthy"
    assert {name: check["status"] for name, check in report["checks"].items()} == {
        "storage": "ok", "identity": "ok", "arm": "ok"}


def test_storage_down_is_503_naming_storage(app_env, functions, monkeypatch):
    from shared.azure.clients import reset_clients

    dead = app_env["AML_LIFECYCLE_TABLES"].replace(
        app_env["AML_LIFECYCLE_TABLES"].split("TableEndpoint=")[1].split(";")[0],
        f"http://127.0.0.1:{free_port()}/devstoreaccount1")
    monkeypatch.setenv("AML_LIFECYCLE_TABLES", dead)
    reset_clients()
    status, report = _report(call_http(functions, "health"))
    assert status == 503
    assert report["checks"]["storage"]["status"] == "failed"
    assert report["checks"]["arm"]["status"] == "ok"
    assert "AccountKey" not in json.dumps(report)


def test_arm_down_is_503_naming_arm(app_env, functions, sim):
    sim.control("POST", "faults", json={"method": "GET", "path": r"^/subscriptions/?$", "kind": "error",
                                        "status": 500, "count": 100})
    status, report = _report(call_http(functions, "health"))
    assert status == 503
    assert report["checks"]["arm"]["status"] == "failed"
    assert "500" in report["checks"]["arm"]["detail"]
    assert report["checks"]["storage"]["status"] == "ok"


class _NoIdentity:
    def get_token(self, *scopes, **kwargs):
        raise ClientAuthenticationError("no managed identity endpoint available")


def test_identity_failure_is_reported(app_env):
    clients = AzureClients(Settings.from_env(), credential=_NoIdentity())
    report = check_health(clients)
    assert report["status"] == "unhealthy"
    assert report["checks"]["identity"]["status"] == "failed"
    assert "managed identity" in report["checks"]["identity"]["detail"]
