"""Auth, api-version, routing and the Microsoft.Resources basics through the real SDK clients."""
from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from .conftest import (
    FOREIGN_TENANT,
    SUB_DEV,
    SUB_PARTNER,
    SUB_PROD,
    SUB_SANDBOX,
    TENANT,
    StaticTokenCredential,
    dep_id,
    rg_id,
    ws_id,
)


def raw(sim, method: str, path: str, token: str | None = None, body: bytes | None = None):
    request = urllib.request.Request(sim.url + path, method=method, data=body,
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
    context = ssl.create_default_context(cafile=sim.ca_bundle)
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_requests_without_or_with_a_wrong_token_get_401(simulator, client_kwargs):
    import json
    status, headers, body = raw(simulator, "GET", f"/subscriptions/{SUB_DEV}?api-version=2022-12-01")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    assert json.loads(body)["error"]["code"] == "AuthenticationFailed"
    from azure.mgmt.resource.resources import ResourceManagementClient
    client = ResourceManagementClient(StaticTokenCredential("wrong"), SUB_DEV, **client_kwargs)
    with pytest.raises(ClientAuthenticationError) as err:
        client.resource_groups.get("rg-ml-dev")
    assert err.value.error.code == "InvalidAuthenticationToken"
    log = simulator.control("GET", "/_sim/requests")
    assert [e["tokenOk"] for e in log] == [False, False]


def test_api_version_is_required_and_paths_match_case_insensitively(simulator, token):
    import json
    status, _, body = raw(simulator, "GET", f"/subscriptions/{SUB_DEV}/resourcegroups/RG-ML-DEV", token)
    assert status == 400 and json.loads(body)["error"]["code"] == "MissingApiVersionParameter"
    status, _, body = raw(simulator, "GET", f"/SUBSCRIPTIONS/{SUB_DEV}/resourcegroups/RG-ML-DEV?api-version=anything", token)
    assert status == 200 and json.loads(body)["name"] == "rg-ml-dev"


def test_subscriptions_carry_their_tenant_and_a_foreign_tenants_are_out_of_reach(credential, client_kwargs):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.mgmt.resource.subscriptions import SubscriptionClient
    client = SubscriptionClient(credential, **client_kwargs)
    subs = {s.subscription_id: s for s in client.subscriptions.list()}
    # ARM lists the token's tenant's subscriptions; another tenant's answers 401 InvalidAuthenticationTokenTenant.
    assert {s.display_name for s in subs.values()} == {"ml-dev", "ml-prod", "sandbox"}
    assert all(s.tenant_id == TENANT for s in subs.values())
    with pytest.raises(ClientAuthenticationError) as refused:
        client.subscriptions.get(SUB_PARTNER)
    assert FOREIGN_TENANT in str(refused.value) or "InvalidAuthenticationTokenTenant" in str(refused.value)
    assert client.subscriptions.get(SUB_PROD).tenant_id == TENANT
    with pytest.raises(ResourceNotFoundError):
        client.subscriptions.get("99999999-9999-4999-8999-999999999999")


def test_resource_groups_get_put_head_list(resources):
    assert resources.resource_groups.get("rg-ml-dev").location == "westeurope"
    assert resources.resource_groups.check_existence("rg-ml-dev") is True
    assert resources.resource_groups.check_existence("rg-nope") is False
    with pytest.raises(ResourceNotFoundError) as err:
        resources.resource_groups.get("rg-nope")
    assert err.value.error.code == "ResourceGroupNotFound"
    created = resources.resource_groups.create_or_update("rg-new", {"location": "westeurope", "tags": {"a": "1"}})
    assert created.properties.provisioning_state == "Succeeded"
    resources.resource_groups.create_or_update("rg-new", {"location": "westeurope", "tags": {"a": "2"}})
    assert resources.resource_groups.get("rg-new").tags == {"a": "2"}
    assert {g.name for g in resources.resource_groups.list()} == {"rg-ml-dev", "rg-ml-dev-2", "rg-new"}
    resources.resource_groups.begin_delete("rg-new").result()
    assert resources.resource_groups.check_existence("rg-new") is False


def test_providers_get_and_register(credential, client_kwargs):
    from azure.mgmt.resource.resources import ResourceManagementClient
    sandbox = ResourceManagementClient(credential, SUB_SANDBOX, **client_kwargs)
    assert sandbox.providers.get("Microsoft.MachineLearningServices").registration_state == "NotRegistered"
    assert sandbox.providers.get("Microsoft.Storage").registration_state == "Registered"
    registering = sandbox.providers.register("Microsoft.MachineLearningServices")
    assert registering.registration_state == "Registering"
    assert sandbox.providers.get("microsoft.machinelearningservices").registration_state == "Registered"
    prod = ResourceManagementClient(credential, SUB_PROD, **client_kwargs)
    assert prod.providers.get("Microsoft.Notebooks").registration_state == "NotRegistered"


def test_resource_lists_page_and_filter(resources, simulator):
    in_group = list(resources.resources.list_by_resource_group("rg-ml-dev"))
    assert len(in_group) > 5  # several pages of 5
    assert any(r.type == "Microsoft.Databricks/workspaces" for r in in_group)
    pages = [e for e in simulator.control("GET", "/_sim/requests") if e["path"].endswith("/resources")]
    assert len(pages) >= 2
    workspaces = list(resources.resources.list(filter="resourceType eq 'Microsoft.MachineLearningServices/workspaces'"))
    assert sorted(w.name for w in workspaces) == sorted(
        ["ws-quiet", "ws-computes", "ws-online", "ws-batch", "ws-jobs", "ws-cmk", "ws-databricks", "ws-private", "ws-twin"])


def test_generic_get_by_id_and_check_existence(resources):
    storage = resources.resources.get_by_id(dep_id("st", "stwsquiet"), api_version="2025-01-01")
    assert storage.type == "Microsoft.Storage/storageAccounts" and storage.location == "westeurope"
    assert resources.resources.check_existence_by_id(dep_id("kv", "kv-ws-quiet"), api_version="2024-11-01") is True
    assert resources.resources.check_existence_by_id(dep_id("kv", "kv-missing"), api_version="2024-11-01") is False
    ws = resources.resources.get_by_id(ws_id("ws-quiet"), api_version="2025-09-01")
    assert ws.properties["storageAccount"] == dep_id("st", "stwsquiet")
    with pytest.raises(ResourceNotFoundError):
        resources.resources.get_by_id(dep_id("st", "stmissing"), api_version="2025-01-01")


def test_errors_are_arm_shaped(resources):
    with pytest.raises(HttpResponseError) as err:
        resources.resources.get_by_id(rg_id(SUB_DEV, "rg-nope") + "/providers/Microsoft.Storage/storageAccounts/x", api_version="2025-01-01")
    assert err.value.status_code == 404 and err.value.error.code == "ResourceGroupNotFound"
