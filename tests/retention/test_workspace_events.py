"""The `workspace_events` function through its real entry point, against Azurite: ledger rows per docs/tables.md."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import ServiceRequestError

from tests.conftest import SUB_DEV, ws_id
from tests.retention.conftest import delivered, event_body, ledger_rows

NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)  # event times are in the past (skew: 10 min)
KEY = (SUB_DEV, "rg-ml-dev|ws-quiet")


def fire(functions, body: dict) -> None:
    functions["workspace_events"].get_user_function()(delivered(body))


def row(events_env) -> dict:
    return ledger_rows(events_env["AML_LIFECYCLE_TABLES"]).get(KEY)


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_delete_records_a_soft_deleted_row_with_every_contract_property(functions, events_env, schema):
    fire(functions, event_body("delete", "WS-Quiet", at=NOW, event_id="evt-1", schema=schema, rg="RG-ML-DEV"))
    stored = row(events_env)
    assert stored["WorkspaceId"] == ws_id("WS-Quiet", rg="RG-ML-DEV")  # as seen in the event
    assert stored["State"] == "SoftDeleted"
    assert stored["DeletedAt"] == NOW
    assert stored["PurgeAfter"] == NOW + timedelta(days=14)
    assert stored["RetentionDays"] == 14
    assert stored["DeletedBy"] == "alice@contoso.com"
    assert stored["CorrelationId"] == "corr-1"
    assert (stored["LastEventTime"], stored["LastEventId"]) == (NOW, "evt-1")
    assert stored["AlertsSent"] == "deleted"  # no topic configured: logged, counts as sent


def test_retention_days_come_from_the_setting(functions, events_env, monkeypatch):
    from shared.azure.clients import reset_clients

    monkeypatch.setenv("AML_LIFECYCLE_DEFAULT_RETENTION_DAYS", "7")
    reset_clients()
    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    assert row(events_env)["PurgeAfter"] == NOW + timedelta(days=7)


def test_force_to_purge_is_a_permanent_delete(functions, events_env):
    fire(functions, event_body("delete", "ws-quiet", at=NOW, purge=True))
    stored = row(events_env)
    assert stored["State"] == "PermanentlyDeleted"
    assert stored["PurgeAfter"] == NOW and "deleted" not in stored.get("AlertsSent", "")


def test_purging_a_soft_deleted_workspace_closes_its_episode(functions, events_env):
    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    fire(functions, event_body("delete", "ws-quiet", at=NOW + timedelta(hours=2), purge=True, schema="cloudevents"))
    stored = row(events_env)
    assert (stored["State"], stored["DeletedAt"]) == ("PermanentlyDeleted", NOW)
    assert stored["PurgeAfter"] == NOW + timedelta(hours=2)


def test_deleted_by_falls_back_to_name_then_appid(functions, events_env):
    from shared.retention.events import caller_of

    fire(functions, event_body("delete", "ws-quiet", at=NOW, upn=None))
    assert row(events_env)["DeletedBy"] == "Alice Example"
    assert caller_of({"appid": "app-0001"}) == "app-0001"


def test_write_while_soft_deleted_is_a_recovery(functions, events_env):
    fire(functions, event_body("delete", "ws-quiet", at=NOW, event_id="d1"))
    recovered = NOW + timedelta(minutes=30)
    fire(functions, event_body("write", "ws-quiet", at=recovered, event_id="w1", schema="cloudevents"))
    stored = row(events_env)
    assert stored["State"] == "Recovered"
    assert (stored["DeletedAt"], stored["LastEventId"]) == (NOW, "w1")


def test_write_of_a_never_deleted_workspace_adds_no_ledger_row(functions, events_env):
    fire(functions, event_body("write", "ws-quiet", at=NOW))
    assert row(events_env) is None


def test_name_reuse_after_expiry_keeps_the_closed_row_and_a_later_delete_opens_a_new_episode(functions, events_env):
    fire(functions, event_body("delete", "ws-quiet", at=NOW - timedelta(days=20), event_id="d1"))
    # a write after PurgeAfter: the old workspace is gone; this is a new one re-using the name
    fire(functions, event_body("write", "ws-quiet", at=NOW - timedelta(days=5), event_id="w1"))
    closed = row(events_env)
    assert closed["State"] == "Expired" and closed["DeletedAt"] == NOW - timedelta(days=20)
    fire(functions, event_body("write", "ws-quiet", at=NOW - timedelta(days=4), event_id="w2"))
    assert row(events_env)["State"] == "Expired"
    fire(functions, event_body("delete", "ws-quiet", at=NOW, event_id="d2", upn="bob@contoso.com"))
    reopened = row(events_env)
    assert (reopened["State"], reopened["DeletedAt"], reopened["DeletedBy"]) == ("SoftDeleted", NOW, "bob@contoso.com")
    assert reopened["AlertsSent"] == "deleted"  # the new episode alerted afresh


def test_duplicates_and_stale_events_change_nothing(functions, events_env):
    fire(functions, event_body("delete", "ws-quiet", at=NOW - timedelta(days=3), event_id="d1"))
    fire(functions, event_body("write", "ws-quiet", at=NOW - timedelta(days=3, hours=-1), event_id="w1"))
    fire(functions, event_body("delete", "ws-quiet", at=NOW, event_id="d2"))
    before = row(events_env)
    fire(functions, event_body("delete", "ws-quiet", at=NOW, event_id="d2"))  # redelivered
    fire(functions, event_body("write", "ws-quiet", at=NOW - timedelta(days=3, hours=-1), event_id="w1"))  # redelivered
    # older than the reorder window (48 h before the newest event): stale
    fire(functions, event_body("write", "ws-quiet", at=NOW - timedelta(days=3, minutes=-30), event_id="late"))
    after = row(events_env)
    assert after == before
    assert after.metadata["etag"] == before.metadata["etag"]  # not even rewritten
    assert (after["State"], after["DeletedAt"], after["LastEventId"]) == ("SoftDeleted", NOW, "d2")


def test_a_late_event_within_the_window_is_slotted_in_order(functions, events_env):
    fire(functions, event_body("delete", "ws-quiet", at=NOW, event_id="d1"))
    fire(functions, event_body("delete", "ws-quiet", at=NOW + timedelta(minutes=10), event_id="d2"))  # 2nd episode
    # the recovery between them arrives last: the second delete opened a new episode after all
    fire(functions, event_body("write", "ws-quiet", at=NOW + timedelta(minutes=5), event_id="w1"))
    stored = row(events_env)
    assert (stored["State"], stored["LastEventId"]) == ("SoftDeleted", "d2")
    assert stored["DeletedAt"] == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("body_change", [
    lambda b: b["data"].update(operationName="Microsoft.Storage/storageAccounts/delete"),
    lambda b: b["data"].update(operationName="Microsoft.MachineLearningServices/workspaces/computes/write"),
    lambda b: b.update(eventType="Microsoft.Resources.ResourceDeleteFailure"),
    lambda b: b.update(eventType="Microsoft.Resources.ResourceActionSuccess"),
], ids=["other-type", "workspace-child", "delete-failure", "action"])
def test_other_events_are_acknowledged_and_ignored(functions, events_env, body_change, caplog):
    caplog.set_level(logging.DEBUG, "aml_lifecycle.workspace_events")
    body = event_body("delete", "ws-quiet", at=NOW, event_id="other-1")
    body_change(body)
    fire(functions, body)
    assert row(events_env) is None
    assert "ignoring event other-1" in caplog.text


@pytest.mark.parametrize("body_change", [
    lambda b: b.update(data="not an object"),
    lambda b: b["data"].update(resourceUri="/subscriptions/not-a-guid/resourceGroups/x", ),
    lambda b: b.update(id=None),
], ids=["data-not-object", "bad-resource-id", "no-id"])
def test_malformed_events_are_logged_with_their_id_and_dropped(functions, events_env, body_change, caplog):
    body = event_body("delete", "ws-quiet", at=NOW, event_id="bad-1")
    body_change(body)
    fire(functions, body)  # no exception: Event Grid must not retry it
    assert row(events_env) is None
    assert "dropping malformed event" in caplog.text
    if body["id"]:
        assert "bad-1" in caplog.text


def test_cloud_event_with_published_sample_spelling_still_counts(functions, events_env):
    # The published CloudEvents delete sample spells "specVersion": azure-functions' converter would decode it as an
    # EventGridEvent without type or time. The app reads the event's JSON text itself: its own `time` still counts.
    body = event_body("delete", "ws-quiet", at=NOW, schema="cloudevents")
    body["specVersion"] = body.pop("specversion")
    fire(functions, body)
    stored = row(events_env)
    assert (stored["State"], stored["DeletedAt"]) == ("SoftDeleted", NOW)


def test_storage_outage_raises_so_event_grid_redelivers(functions, events_env, monkeypatch):
    from azure.data.tables import TableClient

    def down(*args, **kwargs):
        raise ServiceRequestError("connection refused")

    monkeypatch.setattr(TableClient, "get_entity", down)
    with pytest.raises(ServiceRequestError):
        fire(functions, event_body("delete", "ws-quiet", at=NOW))


def test_arm_read_failure_on_write_keeps_the_ledger_update_and_says_so(functions, events_env):
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    fire(functions, event_body("write", "ws-quiet", at=NOW + timedelta(minutes=3)))  # ARM is unreachable here
    assert row(events_env)["State"] == "Recovered"
    service = TableServiceClient.from_connection_string(events_env["AML_LIFECYCLE_TABLES"])
    inventory = service.get_table_client(tables.INVENTORY)
    recorded = inventory.get_entity(*KEY)
    assert recorded["LastWriteTime"] == NOW + timedelta(minutes=3)
    assert "ServiceRequestError" in recorded["ReadError"] or "Connection" in recorded["ReadError"]


def test_cmk_workspace_row_and_alert_carry_the_managed_resource_group_cost(functions, events_env, caplog):
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    service = TableServiceClient.from_connection_string(events_env["AML_LIFECYCLE_TABLES"])
    inventory = tables.table(service, tables.INVENTORY)
    inventory.upsert_entity({"PartitionKey": KEY[0], "RowKey": KEY[1], "WorkspaceId": ws_id("ws-quiet"),
                             "CmkEnabled": True, "ManagedResourceGroup": "azureml-rg-ws-quiet_0001"})
    caplog.set_level(logging.INFO, "aml_lifecycle.alerts")
    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    stored = row(events_env)
    assert stored["CmkEnabled"] is True and stored["ManagedResourceGroup"] == "azureml-rg-ws-quiet_0001"
    [line] = [r.getMessage() for r in caplog.records if "AmlLifecycle.Workspace.SoftDeleted" in r.getMessage()]
    data = json.loads(line.split(ws_id("ws-quiet") + " ", 1)[1])
    assert "billed" in data["cmkCostWarning"] and data["managedResourceGroup"] == "azureml-rg-ws-quiet_0001"
    assert [o["action"] for o in data["recoveryOptions"]] == ["recover", "purge"]
    assert data["purgeAfter"] == (NOW + timedelta(days=14)).isoformat().replace("+00:00", "Z")
