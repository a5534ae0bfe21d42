"""The preflight by workspace kind: a hub, a project, a feature store, a managed-network workspace and a workspace
with a serverless endpoint fail with the doc or "not documented as supported", and pass with the explicit opt-in
(`allowUndocumented`) where the docs are silent; a documented limitation cannot be opted out of."""

from __future__ import annotations

import pytest

from tests import kind_estate as estate
from tests.conftest import SUB_DEV, rg_id
from tests.preflight.conftest import PROD

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
NOT_DOCUMENTED = "not documented as supported"


@pytest.fixture
def kinds(sim, sim_token, app_env) -> dict[str, str]:
    return estate.build(sim, sim_token)


def test_a_hub_fails_as_undocumented_naming_its_projects_and_passes_only_with_the_opt_in(kinds, validate):
    answer = validate(kinds[estate.HUB], PROD)
    assert answer.status == 200 and answer.body["ready"] is False
    kind, projects = answer.check("workspace.kind"), answer.check("workspace.hub-projects")
    assert kind["status"] == "failed" and NOT_DOCUMENTED in kind["message"] and "kind Hub" in kind["message"]
    assert "allowUndocumented" in kind["remediation"] and "how-to-move-workspace" in kind["message"]
    assert projects["status"] == "failed" and "2 project(s)" in projects["message"]
    assert {p["id"] for p in projects["items"]} == {kinds[p] for p in estate.PROJECTS}
    assert answer.body["armValidation"]["status"] == "skipped"

    opted = validate(kinds[estate.HUB], PROD, allowUndocumented=["workspace.kind", "workspace.hub-projects"])
    assert opted.status == 200 and opted.body["ready"] is True, opted.body
    for cid in ("workspace.kind", "workspace.hub-projects"):
        assert opted.status_of(cid) == "warning" and f"allowUndocumented: {cid}" in opted.check(cid)["message"]


def test_a_hubs_projects_cannot_ride_along_they_move_in_their_own_moves(kinds, validate):
    # a workspace never rides along unchecked in another's move (docs/moves.md, "Ride-alongs"): each project is
    # its own move, checked, claimed and followed; the hub's check says so
    answer = validate(kinds[estate.HUB], PROD, includeResources=[kinds[p] for p in estate.PROJECTS])
    assert answer.status == 400 and answer.body["error"]["target"] == "includeResources[0]"
    alone = validate(kinds[estate.HUB], PROD)
    assert "its own move" in alone.check("workspace.hub-projects")["remediation"]


def test_a_project_never_leaves_its_hubs_subscription_silently(kinds, validate):
    answer = validate(kinds["proj-a"], PROD)
    check = answer.check("workspace.hub-projects")
    assert check["status"] == "failed" and "leave its hub's subscription" in check["message"]
    assert check["items"][0]["hubResourceId"] == kinds[estate.HUB] and check["items"][0]["hubMoves"] is False
    assert answer.check("workspace.kind")["status"] == "failed" and "kind Project" in answer.check("workspace.kind")[
        "message"]

    within = validate(kinds["proj-a"], DEV2)  # another group of the hub's own subscription: still said
    assert within.status_of("workspace.hub-projects") == "failed"
    assert "its hub" in within.check("workspace.hub-projects")["message"]

    opted = validate(kinds["proj-a"], PROD, allowUndocumented=["workspace.kind", "workspace.hub-projects"])
    assert opted.body["ready"] is True and opted.status_of("workspace.hub-projects") == "warning"
    assert "leave its hub's subscription" in opted.check("workspace.hub-projects")["message"]


def test_a_feature_store_fails_as_undocumented_and_passes_with_the_opt_in(kinds, validate):
    answer = validate(kinds[estate.FEATURE_STORE], PROD)
    assert answer.status_of("workspace.kind") == "failed" and "FeatureStore" in answer.check("workspace.kind")["message"]
    assert answer.status_of("workspace.hub-projects") == "passed"
    opted = validate(kinds[estate.FEATURE_STORE], PROD, allowUndocumented=["workspace.kind"])
    assert opted.body["ready"] is True and opted.status_of("workspace.kind") == "warning"


def test_a_managed_network_fails_listing_its_outbound_rules_and_passes_with_the_opt_in(kinds, validate):
    answer = validate(kinds[estate.MANAGED], PROD)
    check = answer.check("workspace.managed-network")
    assert check["status"] == "failed" and NOT_DOCUMENTED in check["message"]
    assert "AllowOnlyApprovedOutbound" in check["message"]
    assert check["items"] == [{"name": "pypi", "type": "FQDN", "category": "UserDefined", "status": "Active"}]
    assert answer.status_of("workspace.kind") == "passed"
    opted = validate(kinds[estate.MANAGED], PROD, allowUndocumented=["workspace.managed-network"])
    assert opted.body["ready"] is True and opted.status_of("workspace.managed-network") == "warning"


def test_a_serverless_endpoint_fails_with_the_doc_and_no_opt_in_lifts_it(kinds, validate):
    answer = validate(kinds[estate.SERVERLESS], PROD)
    check = answer.check("workspace.no-serverless-endpoints")
    assert check["status"] == "failed" and "phi-4" in check["message"] and "how-to-move-workspace" in check[
        "remediation"]
    assert NOT_DOCUMENTED not in check["message"]
    every = validate(kinds[estate.SERVERLESS], PROD,
                     allowUndocumented=["workspace.kind", "workspace.hub-projects", "workspace.managed-network"])
    assert every.status_of("workspace.no-serverless-endpoints") == "failed" and every.body["ready"] is False


def test_a_default_workspace_passes_every_kind_check(kinds, validate):
    answer = validate("ws-quiet", PROD)
    assert [answer.status_of(c) for c in ("workspace.kind", "workspace.hub-projects", "workspace.managed-network",
                                          "workspace.no-serverless-endpoints")] == ["passed"] * 4


def test_a_serverless_list_that_fails_skips_its_check_and_blocks(kinds, validate, fault, fast_retries):
    fault("/serverlessEndpoints$", "error", status=500, count=100)
    answer = validate("ws-quiet", PROD)
    assert answer.status_of("workspace.no-serverless-endpoints") == "skipped" and answer.body["ready"] is False


@pytest.mark.parametrize("value,target", [
    ("workspace.kind", "allowUndocumented"),
    (["workspace.no-serverless-endpoints"], "allowUndocumented[0]"),
    (["workspace.kind", 3], "allowUndocumented[1]"),
    (["workspace.no-cmk"], "allowUndocumented[0]"),
])
def test_allow_undocumented_accepts_only_the_silent_checks(app_env, validate, value, target):
    answer = validate("ws-quiet", PROD, allowUndocumented=value)
    assert answer.status == 400 and answer.body["error"]["target"] == target
