"""The simulator's workspace kinds: a hub lists its projects, a hub's delete takes them along (documented) in each
variant Azure leaves open, serverless endpoints and managed network outbound rules in the spec's shapes."""
from __future__ import annotations

import urllib.error

import pytest

from .conftest import SUB_DEV, call, ws_id
from .test_ml import begin

HUB = ws_id("hub-ml")


def make_hub(ml) -> list[str]:
    assert call(ml, "PUT", HUB, {"location": "westeurope", "kind": "Hub", "properties": {}}).status_code == 200
    projects = [ws_id(name) for name in ("proj-a", "proj-b")]
    for project in projects:
        body = {"location": "westeurope", "kind": "Project", "properties": {"hubResourceId": HUB}}
        assert call(ml, "PUT", project, body).status_code == 200
    return projects


def events_for(simulator, resource_id: str) -> list[dict]:
    return [e for e in simulator.control("GET", "/_sim/eventgrid/events")
            if (e.get("subject") or "").lower() == resource_id.lower()]


def test_a_hub_lists_its_projects_in_associated_workspaces(ml):
    projects = make_hub(ml)
    hub = call(ml, "GET", HUB).json()
    assert hub["kind"] == "Hub" and hub["properties"]["associatedWorkspaces"] == projects
    project = call(ml, "GET", projects[0]).json()
    assert project["kind"] == "Project" and project["properties"]["hubResourceId"] == HUB


def test_a_hubs_delete_soft_deletes_its_projects_by_default_without_their_own_events(ml, simulator):
    projects = make_hub(ml)
    begin(ml, "DELETE", HUB).result()
    for project in projects:
        name = project.rsplit("/", 1)[1]
        assert call(ml, "GET", project).status_code == 404
        blocked = call(ml, "PUT", ws_id(name, SUB_DEV, "rg-ml-dev-2"), {"location": "westeurope"})
        assert blocked.status_code == 400 and blocked.json()["error"]["code"] == "BadRequest"
        assert not any(e["eventType"].endswith("DeleteSuccess") for e in events_for(simulator, project))


def test_the_purge_and_event_variants(ml, simulator):
    assert simulator.control("POST", "/_sim/kinds", {"hubDeleteProjects": "purge", "hubProjectEvents": "delete"}) == {
        "hubDeleteProjects": "purge", "hubProjectEvents": "delete", "projectRecoverWithoutHub": "allow",
        "hubRecoverProjects": "no"}
    projects = make_hub(ml)
    begin(ml, "DELETE", HUB).result()
    free = call(ml, "PUT", ws_id("proj-a", SUB_DEV, "rg-ml-dev-2"), {"location": "westeurope"})
    assert free.status_code == 200, "a purged project's name is free"
    for project in projects:
        assert any(e["eventType"].endswith("DeleteSuccess") for e in events_for(simulator, project))


def test_a_hub_purged_purges_its_projects(ml):
    make_hub(ml)
    begin(ml, "DELETE", HUB, forceToPurge="true").result()
    assert call(ml, "PUT", ws_id("proj-b"), {"location": "westeurope"}).status_code == 200


def test_kind_settings_refuse_unknown_values(simulator):
    with pytest.raises(urllib.error.HTTPError) as refused:
        simulator.control("POST", "/_sim/kinds", {"hubDeleteProjects": "keep"})
    assert refused.value.code == 400


def test_serverless_endpoints_and_outbound_rules_in_the_specs_shapes(ml):
    network = {"isolationMode": "AllowOnlyApprovedOutbound",
               "outboundRules": {"pypi": {"type": "FQDN", "destination": "pypi.org", "category": "UserDefined"}}}
    ws = ws_id("ws-mvnet")
    assert call(ml, "PUT", ws, {"location": "westeurope", "properties": {"managedNetwork": network}}).status_code == 200
    rules = call(ml, "GET", ws + "/outboundRules").json()["value"]
    assert rules == [{"id": f"{ws}/outboundRules/pypi", "name": "pypi",
                      "type": "Microsoft.MachineLearningServices/workspaces/outboundRules",
                      "properties": {"status": "Active", "category": "UserDefined", "type": "FQDN",
                                     "destination": "pypi.org"}}]
    assert call(ml, "GET", ws + "/outboundRules/pypi").json() == rules[0]
    assert call(ml, "GET", ws + "/outboundRules/none").status_code == 404

    endpoint = ws + "/serverlessEndpoints/phi-4"
    created = call(ml, "PUT", endpoint, {"location": "westeurope", "sku": {"name": "Consumption"},
                                         "properties": {"modelSettings": {"modelId": "azureml://m/Phi-4"}}})
    assert created.status_code == 201
    listed = call(ml, "GET", ws + "/serverlessEndpoints").json()["value"]
    assert [e["name"] for e in listed] == ["phi-4"]
    assert listed[0]["properties"]["modelSettings"]["modelId"] == "azureml://m/Phi-4"
    begin(ml, "DELETE", endpoint).result()
    assert call(ml, "GET", ws + "/serverlessEndpoints").json()["value"] == []


def test_a_projects_recover_without_its_hub_in_both_variants(ml, simulator):
    make_hub(ml)
    begin(ml, "DELETE", HUB).result()
    project = ws_id("proj-a")
    simulator.control("POST", "/_sim/kinds", {"projectRecoverWithoutHub": "refuse"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        simulator.control("POST", "/_sim/workspaces/recover", {"id": project})
    assert refused.value.code == 400 and call(ml, "GET", project).status_code == 404
    simulator.control("POST", "/_sim/kinds", {"projectRecoverWithoutHub": "allow"})
    assert simulator.control("POST", "/_sim/workspaces/recover", {"id": project})["recovered"] == project
    assert call(ml, "GET", project).status_code == 200 and call(ml, "GET", HUB).status_code == 404


@pytest.mark.parametrize("choice,back", [("no", []), ("yes", ["proj-a", "proj-b"])])
def test_a_hubs_recover_brings_its_projects_back_only_in_that_variant(ml, simulator, choice, back):
    make_hub(ml)
    begin(ml, "DELETE", HUB).result()
    simulator.control("POST", "/_sim/kinds", {"hubRecoverProjects": choice})
    answer = simulator.control("POST", "/_sim/workspaces/recover", {"id": HUB})
    assert answer.get("projects", []) == [ws_id(name) for name in back]
    assert [name for name in ("proj-a", "proj-b") if call(ml, "GET", ws_id(name)).status_code == 200] == back
