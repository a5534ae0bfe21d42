"""Simulator: subscriptions paged and added while running, management group descendants, Event Grid system topics."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.armsim.conftest import SUB_DEV, SUB_PROD, SUB_SANDBOX

NEW_SUB = "55555555-5555-4555-8555-555555555555"
FUNCTION_ID = (f"/subscriptions/{SUB_DEV}/resourceGroups/rg-app/providers/Microsoft.Web/sites/func-api/"
               "functions/workspace_events")


def test_subscriptions_page_by_next_link_and_one_added_while_running_is_listed(simulator, credential, client_kwargs):
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    simulator.control("PUT", "/_sim/page-sizes", {"subscriptions": 1})
    client = SubscriptionClient(credential, **client_kwargs)
    pages = list(client.subscriptions.list().by_page())
    # One nextLink per page, followed by the SDK; the home tenant's three (the partner's is another tenant's).
    assert len(pages) == 3 and all(len(list(p)) == 1 for p in pages)
    simulator.control("POST", "/_sim/subscriptions", {"subscriptionId": NEW_SUB, "displayName": "vended-1"})
    listed = {s.subscription_id: s.display_name for s in client.subscriptions.list()}
    assert listed[NEW_SUB] == "vended-1" and len(listed) == 4
    assert client.subscriptions.get(NEW_SUB).state == "Enabled"
    simulator.control("POST", "/_sim/reset")
    assert NEW_SUB not in {s.subscription_id for s in client.subscriptions.list()}


def test_control_api_refuses_a_bad_or_duplicate_subscription(simulator):
    for body, status in (({"subscriptionId": "nope"}, 400), ({"subscriptionId": SUB_DEV}, 409),
                         ({"subscriptionId": NEW_SUB, "managementGroup": "mg-none"}, 400)):
        with pytest.raises(Exception) as err:
            simulator.control("POST", "/_sim/subscriptions", body)
        assert str(status) in str(err.value)


def test_management_group_descendants_include_nested_groups_and_later_subscriptions(simulator, credential,
                                                                                     client_kwargs):
    from azure.mgmt.managementgroups import ManagementGroupsMgmtClient

    simulator.control("POST", "/_sim/management-groups", {"name": "mg-ml", "subscriptions": [SUB_DEV]})
    simulator.control("POST", "/_sim/management-groups", {"name": "mg-ml-prod", "parent": "mg-ml",
                                                          "subscriptions": [SUB_PROD]})
    simulator.control("PUT", "/_sim/page-sizes", {"descendants": 1})
    client = ManagementGroupsMgmtClient(credential, **client_kwargs)
    items = list(client.management_groups.get_descendants("mg-ml"))
    assert [(i.type, i.name) for i in items] == [
        ("Microsoft.Management/managementGroups/subscriptions", SUB_DEV),
        ("Microsoft.Management/managementGroups", "mg-ml-prod"),
        ("Microsoft.Management/managementGroups/subscriptions", SUB_PROD)]
    assert items[2].properties.parent.id == "/providers/Microsoft.Management/managementGroups/mg-ml-prod"
    simulator.control("POST", "/_sim/subscriptions", {"subscriptionId": NEW_SUB, "managementGroup": "mg-ml-prod"})
    assert NEW_SUB in {i.name for i in client.management_groups.get_descendants("mg-ml")}
    assert SUB_SANDBOX not in {i.name for i in client.management_groups.get_descendants("mg-ml")}
    with pytest.raises(HttpResponseError) as err:
        list(client.management_groups.get_descendants("mg-unknown"))
    assert err.value.status_code == 403


def test_system_topic_and_its_event_subscriptions_through_the_eventgrid_sdk(simulator, credential, client_kwargs):
    from azure.mgmt.eventgrid import EventGridManagementClient
    from azure.mgmt.eventgrid.models import (
        AzureFunctionEventSubscriptionDestination,
        EventSubscription,
        EventSubscriptionFilter,
        SystemTopic,
    )

    client = EventGridManagementClient(credential, SUB_DEV, **client_kwargs)
    topic = client.system_topics.begin_create_or_update("rg-ml-dev", "egst-dev", SystemTopic(
        location="global", source=f"/subscriptions/{SUB_DEV}", topic_type="Microsoft.Resources.Subscriptions")).result()
    assert topic.topic_type == "Microsoft.Resources.Subscriptions"
    client.system_topic_event_subscriptions.begin_create_or_update("rg-ml-dev", "egst-dev", "aml-workspace-events",
        EventSubscription(destination=AzureFunctionEventSubscriptionDestination(resource_id=FUNCTION_ID),
                          filter=EventSubscriptionFilter(
                              included_event_types=["Microsoft.Resources.ResourceDeleteSuccess"]))).result()
    listed = list(client.system_topics.list_by_subscription())
    assert [t.name for t in listed] == ["egst-dev"] and listed[0].source == f"/subscriptions/{SUB_DEV}"
    subs = list(client.system_topic_event_subscriptions.list_by_system_topic("rg-ml-dev", "egst-dev"))
    assert [s.name for s in subs] == ["aml-workspace-events"]
    assert subs[0].destination.endpoint_type == "AzureFunction" and subs[0].destination.resource_id == FUNCTION_ID
    assert list(EventGridManagementClient(credential, SUB_PROD, **client_kwargs).system_topics.list_by_subscription()) == []
