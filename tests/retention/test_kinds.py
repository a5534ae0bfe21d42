"""Workspace kinds in the ledger: a hub with two projects is inventoried with its links; deleting the hub records
its projects deleted with it (what the AI Foundry docs say) with the recovery order and its source; a project's
recovery report names its hub's state, the hub's names its projects'."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests import kind_estate as estate
from tests.conftest import SUB_DEV, call_http, ws_id
from tests.retention.conftest import ledger_rows, recent, soft_delete

HUB_DOC = "create-azure-ai-resource"
IMPLIED = "not documented: the order the dependency implies"


def backfill(functions) -> None:
    response = call_http(functions, "inventory_backfill", method="POST", body={"subscriptionIds": [SUB_DEV]})
    assert response.status_code == 200, response.get_body()


def get(functions, name: str) -> dict:
    response = call_http(functions, "retention_get", route_params={
        "subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": name})
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def inventory_row(app_env, name: str) -> dict:
    from azure.data.tables import TableServiceClient

    from shared.azure import tables

    client = TableServiceClient.from_connection_string(app_env["AML_LIFECYCLE_TABLES"]).get_table_client(
        tables.INVENTORY)
    return client.get_entity(SUB_DEV, f"rg-ml-dev|{name}")


def test_a_hub_with_two_projects_is_inventoried_with_its_links(topic_env, sim, sim_token, functions):
    ids = estate.build(sim, sim_token)
    backfill(functions)
    hub = inventory_row(topic_env, estate.HUB)
    assert hub["Kind"] == "Hub" and sorted(json.loads(hub["Projects"])) == sorted(ids[p] for p in estate.PROJECTS)
    for project in estate.PROJECTS:
        row = inventory_row(topic_env, project)
        assert row["Kind"] == "Project" and row["HubResourceId"] == ids[estate.HUB]
    assert inventory_row(topic_env, estate.FEATURE_STORE)["Kind"] == "FeatureStore"
    assert inventory_row(topic_env, estate.MANAGED)["ManagedNetworkIsolationMode"] == "AllowOnlyApprovedOutbound"
    assert inventory_row(topic_env, "ws-quiet")["Kind"] == "Default"


def test_deleting_a_hub_records_its_projects_with_the_documented_source_and_the_implied_order(
        topic_env, sim, sim_token, functions):
    ids = estate.build(sim, sim_token)
    backfill(functions)
    result = soft_delete(estate.HUB, recent())  # the simulator deletes the projects with it (documented)
    assert result.status == "applied" and result.row.kind == "Hub"

    rows = {rk.split("|")[1]: e for (_, rk), e in ledger_rows(topic_env["AML_LIFECYCLE_TABLES"]).items()}
    assert rows[estate.HUB]["State"] == "SoftDeleted" and rows[estate.HUB]["Kind"] == "Hub"
    for project in estate.PROJECTS:
        row = rows[project]
        assert row["State"] == "SoftDeleted" and row["Kind"] == "Project" and row["HubResourceId"] == ids[estate.HUB]
        assert "deleted with its hub" in row["Reason"] and HUB_DOC in row["Reason"] and "not documented" in row["Reason"]

    hub = get(functions, estate.HUB)
    assert hub["kind"] == "Hub"
    section = hub["recovery"]["workspaceKind"]
    documented = {f["fact"]: f for f in section["documented"]}
    cascade = documented["deleting a hub deletes all its projects (and each project's endpoints)"]
    assert cascade["documented"] is True and HUB_DOC in cascade["source"]
    assert any(not f["documented"] and f["source"] == IMPLIED for f in section["documented"])
    assert {p["id"]: p["ledgerState"] for p in section["projects"]} == {ids[p]: "SoftDeleted" for p in estate.PROJECTS}
    order = hub["recovery"]["recoveryOrder"]
    roles = [s["role"] for s in order]
    assert roles.index("workspace") < roles.index("project") and roles.count("project") == 2
    assert [s["step"] for s in order] == list(range(1, len(order) + 1))
    assert all(s["documented"] is False and s["source"] == IMPLIED for s in order if s["role"] == "project")


def test_a_projects_recovery_report_names_its_hub_and_puts_the_hub_first(topic_env, sim, sim_token, functions):
    ids = estate.build(sim, sim_token)
    backfill(functions)
    soft_delete(estate.HUB, recent())
    project = get(functions, "proj-a")
    assert project["kind"] == "Project" and project["hubResourceId"] == ids[estate.HUB]
    hub = project["recovery"]["workspaceKind"]["hub"]
    assert hub == {"id": ids[estate.HUB], "ledgerState": "SoftDeleted", "arm": "not found"}
    roles = [s["role"] for s in project["recovery"]["recoveryOrder"]]
    assert roles[-2:] == ["hub", "workspace"]
    hub_step = project["recovery"]["recoveryOrder"][-2]
    assert hub_step["documented"] is False and hub_step["source"] == IMPLIED


def test_a_project_deleted_alone_names_its_live_hub_without_a_hub_step(topic_env, sim, sim_token, functions):
    ids = estate.build(sim, sim_token)
    backfill(functions)
    soft_delete("proj-b", recent())
    project = get(functions, "proj-b")
    assert project["recovery"]["workspaceKind"]["hub"] == {"id": ids[estate.HUB], "ledgerState": "no ledger row",
                                                           "arm": "live"}
    assert "hub" not in [s["role"] for s in project["recovery"]["recoveryOrder"]]
    assert get(functions, "proj-b")["inventory"]["hubResourceId"] == ids[estate.HUB]
    facts = project["recovery"]["workspaceKind"]["documented"]
    assert any("name held" in f["fact"] and f["documented"] is False for f in facts)


def test_a_hub_redelivered_records_nothing_twice_and_a_projects_own_event_joins_its_episode(
        topic_env, sim, sim_token, functions):
    from shared.azure.clients import get_clients
    from shared.retention.ingest import RetentionEvents
    from shared.settings import get_settings
    from tests.retention.conftest import delivered, event_body

    estate.build(sim, sim_token)
    backfill(functions)
    at = recent()
    first = event_body("delete", estate.HUB, at=at, event_id="hub-del-1")
    soft_delete(estate.HUB, at, event_id="hub-del-1")
    before = ledger_rows(topic_env["AML_LIFECYCLE_TABLES"])
    events = RetentionEvents(get_clients(), get_settings())
    events.handle(delivered(first), now=at)  # redelivered
    own = events.handle(delivered(event_body("delete", "proj-a", at=at, event_id="proj-a-own")), now=at)
    after = ledger_rows(topic_env["AML_LIFECYCLE_TABLES"])
    key = (SUB_DEV, "rg-ml-dev|proj-a")
    assert after[key]["DeletedAt"] == before[key]["DeletedAt"] and own.row.state.value == "SoftDeleted"
    assert after[key]["AlertsSent"] == before[key]["AlertsSent"]
    assert ws_id("proj-a") == after[key]["WorkspaceId"]



@pytest.mark.parametrize("choice,projects_state", [("no", "SoftDeleted"), ("yes", "Recovered")])
def test_whatever_a_hubs_recover_does_to_its_projects_the_ledger_follows_arm(
        topic_env, sim, sim_token, functions, choice, projects_state):
    """Azure does not say whether recovering a hub brings its projects back: the sweep's ARM check settles each row,
    in both of the simulator's variants."""
    from tests.retention.conftest import sweep

    ids = estate.build(sim, sim_token)
    backfill(functions)
    at = recent()
    soft_delete(estate.HUB, at)
    sim.control("POST", "kinds", json={"hubRecoverProjects": choice})
    sim.control("POST", "workspaces/recover", json={"id": ids[estate.HUB]})
    sweep(at + timedelta(hours=1))
    rows = {rk.split("|")[1]: e for (_, rk), e in ledger_rows(topic_env["AML_LIFECYCLE_TABLES"]).items()}
    assert rows[estate.HUB]["State"] == "Recovered"
    assert [rows[p]["State"] for p in estate.PROJECTS] == [projects_state] * 2


def test_a_purged_hub_records_its_projects_the_same_way_saying_it_is_not_documented(topic_env, sim, sim_token,
                                                                                     functions):
    estate.build(sim, sim_token)
    backfill(functions)
    soft_delete(estate.HUB, recent(), purge=True)
    rows = {rk.split("|")[1]: e for (_, rk), e in ledger_rows(topic_env["AML_LIFECYCLE_TABLES"]).items()}
    assert rows[estate.HUB]["State"] == "PermanentlyDeleted"
    for project in estate.PROJECTS:
        assert rows[project]["State"] == "PermanentlyDeleted"
        assert "permanently (forceToPurge)" in rows[project]["Reason"] and "not documented" in rows[project]["Reason"]
