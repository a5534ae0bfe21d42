"""Events the ledger refuses (acknowledged, logged with the reason, nothing written) and the event times it accepts,
through `workspace_events`' real entry point against Azurite (docs/retention.md, "Events the app refuses")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import SUB_DEV, SUB_PARTNER, SUB_PROD, SUB_SANDBOX, log_text
from tests.retention.conftest import event_body, ledger_rows

NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
KEY = (SUB_DEV, "rg-ml-dev|ws-quiet")


@pytest.fixture(autouse=True)
def fresh_watch_cache() -> Any:
    from shared.retention.watched import WATCHED

    WATCHED.forget()
    yield
    WATCHED.forget()


def fire(functions: dict, event: Any) -> None:
    """Deliver one event as the worker does (its JSON text); a failure would raise (Event Grid would retry)."""
    functions["workspace_events"].get_user_function()(event if isinstance(event, str) else json.dumps(event))


def stored(connection_string: str) -> dict:
    """Every row of every app table: refused events must leave all of them empty."""
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    service = TableServiceClient.from_connection_string(connection_string)
    found = {}
    for name in tables.ALL_TABLES:
        try:
            found[name] = list(service.get_table_client(name).list_entities())
        except Exception:  # the table was never created: nothing written
            found[name] = []
    return {name: rows for name, rows in found.items() if rows}


def with_topic(body: dict, topic: str | None) -> dict:
    key = "topic" if "topic" in body else "source"
    if topic is None:
        body.pop(key)
    else:
        body[key] = topic
    return body


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
@pytest.mark.parametrize("kind", ["delete", "write"])
def test_an_unwatched_subscriptions_events_write_nothing(functions, events_env, caplog, schema, kind):
    fire(functions, event_body(kind, "ws-quiet", at=NOW, sub=SUB_SANDBOX, schema=schema, event_id="evt-unwatched"))
    assert stored(events_env["AML_LIFECYCLE_TABLES"]) == {}
    assert f"refusing event evt-unwatched: subscription {SUB_SANDBOX} is not watched" in log_text(caplog)


@pytest.mark.parametrize("topic, reason", [
    (f"/subscriptions/{SUB_PROD}", "in another subscription"),  # a forged event: resource in SUB_DEV
    (f"/subscriptions/{SUB_DEV}/resourceGroups/rg-other", "outside its topic's resource group"),
    ("/providers/Microsoft.Management/managementGroups/mg", "is not a subscription or resource group scope"),
    (None, "names no topic"),
])
@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_an_event_whose_resource_is_outside_its_topic_writes_nothing(functions, events_env, caplog, topic, reason,
                                                                     schema):
    fire(functions, with_topic(event_body("delete", "ws-quiet", at=NOW, schema=schema), topic))
    assert stored(events_env["AML_LIFECYCLE_TABLES"]) == {}
    assert reason in log_text(caplog)


def test_a_resource_group_topic_applies_its_own_groups_events(functions, events_env):
    fire(functions, with_topic(event_body("delete", "ws-quiet", at=NOW), f"/subscriptions/{SUB_DEV}/resourceGroups/RG-ML-DEV"))
    assert ledger_rows(events_env["AML_LIFECYCLE_TABLES"])[KEY]["State"] == "SoftDeleted"


def test_a_resource_group_delete_of_an_unwatched_subscription_writes_nothing(functions, events_env, caplog):
    body = event_body("delete", "ws-quiet", at=NOW, sub=SUB_PARTNER)
    group = f"/subscriptions/{SUB_PARTNER}/resourceGroups/rg-partner"
    body["data"].update(operationName="Microsoft.Resources/subscriptions/resourceGroups/delete", resourceUri=group)
    body["subject"] = group
    fire(functions, body)
    assert stored(events_env["AML_LIFECYCLE_TABLES"]) == {}
    assert "is not watched" in log_text(caplog)


@pytest.mark.parametrize("ahead, applied", [(timedelta(minutes=9), True), (timedelta(minutes=11), False),
                                             (timedelta(days=300), False)])
def test_an_event_time_beyond_the_skew_is_refused_as_malformed(functions, events_env, caplog, ahead, applied):
    at = datetime.now(timezone.utc).replace(microsecond=0) + ahead
    fire(functions, event_body("delete", "ws-quiet", at=at))
    rows = ledger_rows(events_env["AML_LIFECYCLE_TABLES"])
    if applied:
        assert rows[KEY]["DeletedAt"] == at
    else:
        assert stored(events_env["AML_LIFECYCLE_TABLES"]) == {}
        assert "more than 10 minutes after it was received" in log_text(caplog)


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
@pytest.mark.parametrize("text, offset", [("+01:00", timedelta(hours=1)), ("-05:30", timedelta(hours=-5, minutes=-30)),
                                          ("z", timedelta(0))])
def test_an_offset_event_time_is_applied_at_its_utc_instant(functions, events_env, schema, text, offset):
    body = event_body("delete", "ws-quiet", at=NOW, schema=schema)
    local = (NOW + offset).strftime("%Y-%m-%dT%H:%M:%S.1234567") + text  # the same instant, written at an offset
    body["eventTime" if schema == "eventgrid" else "time"] = local
    fire(functions, body)
    assert ledger_rows(events_env["AML_LIFECYCLE_TABLES"])[KEY]["DeletedAt"] == NOW + timedelta(microseconds=123456)


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-12-03T24:00:00Z",
                                   "２０２６-１２-０３T10:00:00Z", "0001-01-01T00:30:00+01:00", "2026-12-03T10:00:00+99:00",
                                   12345, {"at": "now"}])
def test_an_unparsable_event_time_is_acknowledged_and_nothing_is_written(functions, events_env, caplog, schema, value):
    body = event_body("delete", "ws-quiet", at=NOW, schema=schema, event_id="evt-bad-time")
    body["eventTime" if schema == "eventgrid" else "time"] = value
    fire(functions, body)  # no exception: Event Grid gets its 2xx and does not retry for 24 h
    assert stored(events_env["AML_LIFECYCLE_TABLES"]) == {}
    assert "dropping malformed event evt-bad-time" in log_text(caplog)


def test_deeply_nested_event_json_is_acknowledged_and_logged(functions, events_env, caplog):
    body = event_body("delete", "ws-quiet", at=NOW, event_id="evt-deep")
    text = json.dumps(body).replace('"correlationId"', '"deep": ' + "[" * 20_000 + "]" * 20_000 + ', "correlationId"')
    fire(functions, text)
    body["data"]["claims"] = "[" * 20_000 + "]" * 20_000  # a claims string that is deep JSON
    body["id"] = "evt-deep-claims"
    fire(functions, body)
    assert stored(events_env["AML_LIFECYCLE_TABLES"]).keys() <= {"WorkspaceRetention", "RetentionSchedule"}
    assert "nests deeper than 64 levels" in log_text(caplog)
    row = ledger_rows(events_env["AML_LIFECYCLE_TABLES"])[KEY]  # the second one is fine: no caller, still a delete
    assert (row["LastEventId"], row.get("DeletedBy")) == ("evt-deep-claims", None)


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"a string"', "{\"id\": " + "[" * 100 + "]" * 100 + "}"])
def test_event_text_that_is_not_an_event_object_is_acknowledged(functions, events_env, caplog, text):
    fire(functions, text)
    assert stored(events_env["AML_LIFECYCLE_TABLES"]) == {}
    assert "dropping malformed event" in log_text(caplog)


@pytest.mark.parametrize("watched, applied", [("*", {SUB_DEV}), (SUB_PROD, set())])
def test_watch_all_resolves_the_subscriptions_through_arm(functions, app_env, monkeypatch, watched, applied):
    """`*`: the subscriptions ARM lists (the foreign tenant's are not); listed ids: only those."""
    from shared.azure.clients import reset_clients

    monkeypatch.setenv("AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS", watched)
    reset_clients()
    fire(functions, event_body("delete", "ws-quiet", at=NOW))
    fire(functions, event_body("delete", "ws-partner", at=NOW, sub=SUB_PARTNER, rg="rg-partner"))
    rows = ledger_rows(app_env["AML_LIFECYCLE_TABLES"])
    assert {pk for pk, _ in rows} == applied
