"""Events as they really come (string-form fields, late deletes, per-workspace facts), poison events, the storage
cost of an event, and forged continuation tokens, through the real entry points against Azurite."""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SUB_DEV, call_http, ws_id
from tests.retention.conftest import delivered, event_body, ledger_rows

NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
KEY = (SUB_DEV, "rg-ml-dev|ws-quiet")


def fire(functions, body: dict) -> None:
    functions["workspace_events"].get_user_function()(delivered(body))


def row(events_env) -> dict | None:
    return ledger_rows(events_env["AML_LIFECYCLE_TABLES"]).get(KEY)


def inventory(events_env, **properties) -> None:
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    service = TableServiceClient.from_connection_string(events_env["AML_LIFECYCLE_TABLES"])
    tables.table(service, tables.INVENTORY).upsert_entity(
        {"PartitionKey": KEY[0], "RowKey": KEY[1], "WorkspaceId": ws_id("ws-quiet"), **properties})


def soft_delete_alerts(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "AmlLifecycle.Workspace.SoftDeleted" in r.getMessage()]


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_a_purge_with_claims_and_http_request_as_json_strings_is_a_permanent_delete_by_its_caller(
        functions, events_env, schema):
    body = event_body("delete", "ws-quiet", at=NOW, purge=True, schema=schema, upn="dana@contoso.com")
    for field in ("claims", "httpRequest", "authorization"):  # as relays and older SDK models re-publish them
        body["data"][field] = json.dumps(body["data"][field])
    fire(functions, body)
    stored = row(events_env)
    assert (stored["State"], stored["DeletedBy"]) == ("PermanentlyDeleted", "dana@contoso.com")


def test_a_delete_whose_window_had_closed_on_arrival_is_expired_without_soft_delete_alert(
        functions, events_env, caplog):
    caplog.set_level(logging.INFO, "aml_lifecycle.alerts")
    fire(functions, event_body("delete", "ws-quiet", at=NOW - timedelta(days=15), event_id="late-1"))
    stored = row(events_env)
    assert stored["State"] == "Expired" and "closed" in stored["Reason"]
    assert not stored.get("AlertsSent") and soft_delete_alerts(caplog) == []
    body = json.loads(call_http(functions, "retention_get", route_params={
        "subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet"}).get_body())
    assert body["state"] == "Expired" and "recovery" not in body and "closed" in body["reason"]


def test_the_workspace_own_retention_from_the_inventory_wins_over_the_setting(functions, events_env):
    inventory(events_env, SoftDeleteRetentionDays=3)
    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    stored = row(events_env)
    assert (stored["RetentionDays"], stored["PurgeAfter"]) == (3, NOW + timedelta(days=3))


def test_a_workspace_with_only_user_assigned_identities_is_deleted_permanently_with_the_reason(
        functions, events_env, caplog):
    caplog.set_level(logging.INFO, "aml_lifecycle.alerts")
    inventory(events_env, IdentityType="UserAssigned")
    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    stored = row(events_env)
    assert stored["State"] == "PermanentlyDeleted" and "user-assigned" in stored["Reason"]
    assert soft_delete_alerts(caplog) == []  # nothing to recover: no recovery advice


LONG = "x" * (64 * 1024 + 1)  # over Table Storage's 64 KiB string property limit


@pytest.mark.parametrize("poison", [
    lambda b: b.update(eventTime="9999-12-31T23:59:59.9999999Z"),
    lambda b: b.update(eventTime="0001-01-01T00:00:00Z"),
    lambda b: b["data"].update(correlationId={"value": "an object"}),
    lambda b: b["data"]["claims"].update({"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": LONG}),
    lambda b: b["data"].update(correlationId=LONG),
    lambda b: b.update(id=LONG),
], ids=["year-9999", "year-0001", "correlation-object", "caller-over-64k", "correlation-over-64k", "id-over-64k"])
def test_a_poison_event_is_logged_acknowledged_and_writes_nothing(functions, events_env, poison, caplog):
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    body = event_body("delete", "ws-quiet", at=NOW, event_id="poison-1")
    poison(body)
    fire(functions, body)  # no exception: the host answers 2xx, Event Grid does not retry for 24 hours
    assert "dropping malformed event" in caplog.text and body["id"][:64] in caplog.text
    service = TableServiceClient.from_connection_string(events_env["AML_LIFECYCLE_TABLES"])
    for name in (tables.RETENTION, tables.SCHEDULE, tables.INVENTORY):
        assert list(tables.table(service, name).list_entities()) == [], name


@pytest.fixture
def storage_requests(events_env):
    """Counts the HTTP requests the app sends to Azurite's table endpoint."""
    from azure.core.pipeline.transport import RequestsTransport

    host = events_env["AML_LIFECYCLE_TABLES"].split("TableEndpoint=")[1].split(";")[0]
    seen: list[str] = []
    original = RequestsTransport.send

    def send(transport, request, **kwargs):
        if request.url.startswith(host):
            seen.append(f"{request.method} {request.url.split('?')[0][len(host):]}")
        return original(transport, request, **kwargs)

    RequestsTransport.send = send
    yield seen
    RequestsTransport.send = original


def test_a_new_soft_delete_costs_three_storage_requests_and_a_redelivery_one(functions, events_env, storage_requests):
    now = datetime.now(timezone.utc)  # a delete arrives seconds after the operation
    fire(functions, event_body("delete", "ws-warm", at=now))  # table creation happens once per process
    body = event_body("delete", "ws-cost", at=now, event_id="cost-1")
    storage_requests.clear()
    fire(functions, body)
    assert len(storage_requests) == 3, storage_requests  # inventory read, schedule entry, ledger create
    storage_requests.clear()
    fire(functions, body)
    assert len(storage_requests) == 1, storage_requests  # the row read answers "seen"
    stored = ledger_rows(events_env["AML_LIFECYCLE_TABLES"])[(SUB_DEV, "rg-ml-dev|ws-cost")]
    assert (stored["State"], stored["AlertsSent"]) == ("SoftDeleted", "deleted")


def token(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("forged", [token({}), token([]), token({"pk": 1}), token({"pk": None, "rk": None}),
                                    token({"pk": "a", "rk": {"x": 1}}), token({"PartitionKey": "a"}), token("pk"),
                                    token({"pk": "a\u0000"}), "e30", "bnVsbA", "=="])
def test_a_forged_continuation_token_is_a_400_naming_it(functions, events_env, forged):
    response = call_http(functions, "retention_list", params={"continuationToken": forged})
    assert response.status_code == 400, response.get_body()
    assert json.loads(response.get_body())["error"]["target"] == "continuationToken"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON | st.dictionaries(st.sampled_from(["pk", "rk"]), JSON, max_size=2), raw=st.text(max_size=40))
def test_fuzzed_continuation_tokens_are_never_a_500(functions, events_env, value, raw):
    for forged in (token(value), raw):
        if not forged:
            continue
        response = call_http(functions, "retention_list", params={"continuationToken": forged})
        assert response.status_code in (200, 400), (forged, response.get_body())
        if response.status_code == 400:
            assert json.loads(response.get_body())["error"]["target"] == "continuationToken"


def group_delete(at: datetime, event_id: str = "rg-del-1") -> dict:
    body = event_body("delete", "ws-quiet", at=at, event_id=event_id)
    group = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev"
    body["subject"] = body["data"]["resourceUri"] = body["data"]["authorization"]["scope"] = group
    body["data"]["operationName"] = "Microsoft.Resources/subscriptions/resourceGroups/delete"
    return body


def test_a_deleted_resource_group_records_each_inventoried_workspace_with_the_reason(functions, events_env):
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    service = TableServiceClient.from_connection_string(events_env["AML_LIFECYCLE_TABLES"])
    table = tables.table(service, tables.INVENTORY)
    for rg, name in (("rg-ml-dev", "ws-quiet"), ("rg-ml-dev", "ws-online"), ("rg-ml-dev-2", "ws-other")):
        table.upsert_entity({"PartitionKey": SUB_DEV, "RowKey": f"{rg}|{name}", "WorkspaceId": ws_id(name, rg=rg)})
    fire(functions, event_body("delete", "ws-gone", at=NOW - timedelta(hours=5), purge=True))  # purged before
    table.upsert_entity({"PartitionKey": SUB_DEV, "RowKey": "rg-ml-dev|ws-gone", "WorkspaceId": ws_id("ws-gone")})
    fire(functions, group_delete(NOW))
    rows = ledger_rows(events_env["AML_LIFECYCLE_TABLES"])
    for name in ("ws-quiet", "ws-online"):
        stored = rows[(SUB_DEV, f"rg-ml-dev|{name}")]
        assert (stored["State"], stored["DeletedAt"]) == ("SoftDeleted", NOW)
        assert "resource group rg-ml-dev" in stored["Reason"] and stored["AlertsSent"] == "deleted"
    assert (SUB_DEV, "rg-ml-dev-2|ws-other") not in rows
    assert rows[(SUB_DEV, "rg-ml-dev|ws-gone")]["DeletedAt"] == NOW - timedelta(hours=5)  # not seen alive since
    fire(functions, group_delete(NOW))  # redelivered: nothing changes
    assert ledger_rows(events_env["AML_LIFECYCLE_TABLES"]) == rows
