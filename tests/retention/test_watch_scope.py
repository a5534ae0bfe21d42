"""Fleet-wide watch with the simulator: `*` and a management group discover subscriptions, the daily backfill picks up
one created while running, and the coverage report names the subscriptions whose event subscription is missing."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.conftest import SUB_DEV, SUB_PARTNER, SUB_PROD, SUB_SANDBOX, call_http

NEW_SUB = "55555555-5555-4555-8555-555555555555"
NEW_WS = f"/subscriptions/{NEW_SUB}/resourceGroups/rg-vended/providers/Microsoft.MachineLearningServices/workspaces/ws-new"
FUNCTION_ID = (f"/subscriptions/{SUB_DEV}/resourceGroups/rg-app/providers/Microsoft.Web/sites/func-api/"
               "functions/workspace_events")
TOPIC_TYPE = "Microsoft.Resources.Subscriptions"


@pytest.fixture
def watch(app_env: dict, monkeypatch: pytest.MonkeyPatch):
    """Set AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS for the app (settings and clients rebuilt)."""
    from shared.azure.clients import reset_clients

    def set_watch(value: str) -> None:
        monkeypatch.setenv("AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS", value)
        reset_clients()

    return set_watch


def vend_subscription(sim: Any, management_group: str | None = None) -> None:
    """A subscription created while the app runs, holding one workspace (created through the SDK)."""
    from shared.azure.clients import get_clients

    body = {"subscriptionId": NEW_SUB, "displayName": "vended-1"}
    if management_group:
        body["managementGroup"] = management_group
    sim.control("POST", "subscriptions", json=body)
    get_clients().resources(NEW_SUB).resource_groups.create_or_update("rg-vended", {"location": "westeurope"})
    pipeline = get_clients().arm_pipeline()
    request = pipeline.put(f"{NEW_WS}?api-version=2025-09-01", content={"location": "westeurope", "properties": {}})
    assert pipeline.send_request(request).status_code in (200, 201)


def run_daily_backfill(functions: dict) -> None:
    from azure.functions.timer import TimerRequest

    functions["inventory_backfill_daily"].get_user_function()(TimerRequest(past_due=False))


def inventory_subscriptions() -> set[str]:
    from shared.azure import tables
    from shared.azure.clients import get_clients

    table = tables.table(get_clients().tables(), tables.INVENTORY)
    return {e["PartitionKey"] for e in table.list_entities(select=["PartitionKey"])}


def backfill(functions: dict) -> dict:
    response = call_http(functions, "inventory_backfill", method="POST", body=None)
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def test_star_covers_every_readable_subscription_and_the_daily_backfill_picks_up_a_new_one(watch, sim, functions):
    watch("*")
    sim.control("PUT", "page-sizes", json={"subscriptions": 1})  # one nextLink per subscription
    first = backfill(functions)
    # Every subscription the app's token can list: the partner's is another tenant's (ARM does not list it).
    assert first["discovery"] == {"mode": "all", "subscriptions": 3}
    assert {s["subscriptionId"] for s in first["subscriptions"]} == {SUB_DEV, SUB_PROD, SUB_SANDBOX}
    assert NEW_SUB not in inventory_subscriptions()

    vend_subscription(sim)
    run_daily_backfill(functions)  # the timer function itself, as the host calls it
    assert NEW_SUB in inventory_subscriptions()
    assert SUB_DEV in inventory_subscriptions()  # the seeded workspaces stay recorded


def test_a_management_group_covers_its_three_subscriptions_including_one_vended_later(watch, sim, functions):
    sim.control("POST", "management-groups", json={"name": "mg-ml", "subscriptions": [SUB_DEV]})
    sim.control("POST", "management-groups", json={"name": "mg-ml-prod", "parent": "mg-ml", "subscriptions": [SUB_PROD]})
    watch("/providers/Microsoft.Management/managementGroups/mg-ml")
    first = backfill(functions)
    assert first["discovery"] == {"mode": "managementGroup", "managementGroup": "mg-ml", "subscriptions": 2}
    assert [s["subscriptionId"] for s in first["subscriptions"]] == sorted([SUB_DEV, SUB_PROD])

    vend_subscription(sim, management_group="mg-ml-prod")
    second = backfill(functions)
    covered = {s["subscriptionId"]: s for s in second["subscriptions"]}
    assert set(covered) == {SUB_DEV, SUB_PROD, NEW_SUB}  # the sandbox and partner stay outside the group
    assert covered[NEW_SUB]["recorded"] == 1 and second["failedSubscriptions"] == 0


def test_discovery_refused_by_arm_is_reported_not_hidden(watch, sim, functions):
    watch("*")
    sim.control("POST", "faults", json={"path": "^/subscriptions$", "kind": "error", "status": 403, "count": 10})
    result = backfill(functions)
    assert result["subscriptions"] == [] and "403" in result["discovery"]["error"]


def wire(sub: str, *, event_subscription: bool, delete_events: bool = True) -> None:
    """A system topic in `sub` (and optionally the app's event subscription on it), through the Event Grid SDK."""
    from azure.mgmt.eventgrid.models import (
        AzureFunctionEventSubscriptionDestination,
        EventSubscription,
        EventSubscriptionFilter,
        SystemTopic,
    )

    from shared.azure.clients import get_clients

    get_clients().resources(sub).resource_groups.create_or_update("rg-aml-events", {"location": "westeurope"})
    client = get_clients().eventgrid(sub)
    client.system_topics.begin_create_or_update("rg-aml-events", f"egst-{sub[:4]}", SystemTopic(
        location="global", source=f"/subscriptions/{sub}", topic_type=TOPIC_TYPE), polling_interval=0).result()
    if event_subscription:
        types = ["Microsoft.Resources.ResourceWriteSuccess"] + (["Microsoft.Resources.ResourceDeleteSuccess"]
                                                                if delete_events else [])
        client.system_topic_event_subscriptions.begin_create_or_update(
            "rg-aml-events", f"egst-{sub[:4]}", "aml-workspace-events", EventSubscription(
                destination=AzureFunctionEventSubscriptionDestination(resource_id=FUNCTION_ID),
                filter=EventSubscriptionFilter(included_event_types=types)), polling_interval=0).result()


def coverage(functions: dict) -> dict:
    response = call_http(functions, "coverage")
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def test_coverage_names_the_subscriptions_whose_event_subscription_is_missing(watch, sim, functions):
    watch("*")
    wire(SUB_DEV, event_subscription=True)
    wire(SUB_PROD, event_subscription=False)  # a topic (someone else's, say) without the app's event subscription
    wire(SUB_SANDBOX, event_subscription=True, delete_events=False)  # deletions filtered out: not covered
    report = coverage(functions)
    rows = {r["subscriptionId"]: r for r in report["subscriptions"]}
    assert report["mode"] == "all" and report["wired"] == [SUB_DEV]
    # The partner subscription is another tenant's: ARM does not list it for the app's token.
    assert set(report["missing"]) == {SUB_PROD, SUB_SANDBOX} and report["unknown"] == []
    assert rows[SUB_DEV]["eventSubscription"].endswith("/eventSubscriptions/aml-workspace-events")
    assert rows[SUB_DEV]["function"] == FUNCTION_ID
    assert "no event subscription to workspace_events" in rows[SUB_PROD]["reason"]
    assert rows[SUB_PROD]["systemTopic"].endswith(f"/systemTopics/egst-{SUB_PROD[:4]}")
    assert SUB_PARTNER not in rows
    assert "ResourceDeleteSuccess" in rows[SUB_SANDBOX]["reason"]
    assert report["notWatched"] == []


def test_coverage_in_listed_mode_shows_readable_subscriptions_nobody_listed_and_arm_refusals(watch, sim, functions):
    watch(f"{SUB_DEV},{SUB_PROD}")
    wire(SUB_DEV, event_subscription=True)
    sim.control("POST", "faults", json={"path": f"^/subscriptions/{SUB_PROD}/providers/Microsoft.EventGrid/systemTopics$",
                                        "kind": "error", "status": 403, "count": 10})
    report = coverage(functions)
    assert report["mode"] == "listed" and report["wired"] == [SUB_DEV] and report["unknown"] == [SUB_PROD]
    assert "403" in {r["subscriptionId"]: r for r in report["subscriptions"]}[SUB_PROD]["reason"]
    assert [s["subscriptionId"] for s in report["notWatched"]] == [SUB_SANDBOX]  # partner: another tenant
    assert "checkedAt" in report and datetime.fromisoformat(report["checkedAt"]).tzinfo == timezone.utc


def test_daily_backfill_without_any_watched_subscription_does_nothing_and_says_why(watch, sim, functions, caplog):
    watch("")
    with caplog.at_level("WARNING", logger="aml_lifecycle.inventory"):
        run_daily_backfill(functions)
    assert "scheduled backfill skipped" in caplog.text and "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS" in caplog.text
    assert inventory_subscriptions() == set()
