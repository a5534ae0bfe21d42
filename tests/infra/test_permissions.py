"""One source of truth for ARM permissions: the code's call sites, shared/azure/permissions.py and infra/ agree.

The call sites are found by reading the code (tests/infra/arm_scan.py); the table says which actions each needs and
which feature grants them; the Bicep roles must grant exactly those actions, feature by feature, each optional
feature only behind its switch. docs/deploy.md's permission table is the table's own rendering.
"""

from __future__ import annotations

import json
import re

import pytest

from shared.azure import permissions
from shared.azure.permissions import CALLS, DELEGATED, FEATURES, NOT_ARM, actions_of
from tests.infra.arm_scan import scan, scan_source
from tests.infra.conftest import REPO, body

ACTION = re.compile(r"^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+/(read|write|delete|action)$")
ROLE_FILE = {"Fleet Inventory Reader": "mg/roles.bicep"}
# The variable each custom role's `actions` is built from, and the features that feed it.
ROLE_ACTIONS = {
    "Operator": ("operatorActions", {"extraActions"}),
    "Move Target": ("targetActions", set()),
    "Subscription Reader": ("subscriptionActions", set()),
    "Inventory Reader": ("inventoryActions", set()),
    "Purger": ("purgeActions", set()),
    "Fleet Inventory Reader": ("fleetInventoryActions", {"inventoryActions"}),
}


@pytest.fixture(scope="module")
def sites() -> dict[str, set[str]]:
    return scan()


def declared_ops() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for call in CALLS:
        found.setdefault(call.site, set()).update(call.ops)
    return found


def granted(bicep, feature: str) -> list[str]:
    """The actions a feature's Bicep variable grants when its switch is on."""
    spec = FEATURES[feature]
    value = bicep[ROLE_FILE.get(spec.role, "app/role-definition.bicep")]["variables"][spec.variable]["value"]
    if isinstance(value, dict) and "operator" in value:
        value = value["operator"]["operands"]["true_value"]
    assert isinstance(value, list), f"{spec.variable} is not a plain list of actions: {value}"
    return value


# ---- code <-> table -----------------------------------------------------------------------------------------


def test_every_arm_call_site_is_in_the_table(sites):
    declared = declared_ops()
    missing = {site: sorted(ops - declared.get(site, set())) for site, ops in sites.items()
               if site not in DELEGATED | NOT_ARM}
    assert {k: v for k, v in missing.items() if v} == {}, (
        "ARM calls without a line in shared/azure/permissions.py (infra/README.md, Permissions)")


def test_every_table_entry_is_a_call_the_code_makes(sites):
    stale = {site: sorted(ops - sites.get(site, set())) for site, ops in declared_ops().items()}
    assert {k: v for k, v in stale.items() if v} == {}, "entries naming calls the code no longer makes"
    assert not DELEGATED - set(sites), "a delegated gateway method no longer calls ARM"
    assert not NOT_ARM - set(sites), "a listed non-ARM sender no longer sends"


def test_the_scan_catches_a_new_call_and_a_new_operation_in_a_known_function():
    """The failure mode the table guards against: a call added without its line."""
    source = (
        "def remove_created_group(clients, target):\n"
        "    groups = clients.resources(target.subscription_id)\n"
        "    groups.resources.list_by_resource_group(target.name)\n"
        "    groups.resource_groups.begin_delete(target.name)\n"
        "    clients.resources(target.subscription_id).resource_groups.begin_export_template(target.name)\n"
        "def brand_new(gw: WorkloadGateway, rid):\n"
        "    gw.delete(rid)\n"
    )
    found = scan_source(source, "shared.moves.preflight.group_cleanup")
    declared = declared_ops()
    known = found["shared.moves.preflight.group_cleanup:remove_created_group"]
    assert known - declared["shared.moves.preflight.group_cleanup:remove_created_group"] == {
        "resources.resource_groups.begin_export_template"}
    assert found["shared.moves.preflight.group_cleanup:brand_new"] == {"gw.delete"}
    assert "shared.moves.preflight.group_cleanup:brand_new" not in declared


def test_table_entries_are_well_formed():
    for call in CALLS:
        assert call.feature in FEATURES, call
        assert call.why, call
        for action in call.actions:
            assert ACTION.match(action) and "*" not in action, action


# ---- table <-> Bicep ----------------------------------------------------------------------------------------


def test_the_app_roles_grant_every_used_action_and_no_other(bicep):
    """Whatever the Bicep's layout: every action string in the app's role definitions (all switches on) is one the
    code uses, and every action the code uses there is granted."""
    from tests.infra.conftest import walk

    written = {v for v in walk(bicep["app/role-definition.bicep"]) if isinstance(v, str) and ACTION.match(v)}
    used = {a for name, spec in FEATURES.items() if spec.role not in ROLE_FILE for a in actions_of(name)}
    assert {"used, not granted": sorted(used - written), "granted, not used": sorted(written - used)} == {
        "used, not granted": [], "granted, not used": []}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_each_feature_grants_exactly_what_its_calls_use(bicep, feature):
    grants = granted(bicep, feature)
    assert len(grants) == len(set(grants)), f"{FEATURES[feature].variable} lists an action twice"
    needed = actions_of(feature)
    assert sorted(needed - set(grants)) == [], f"{feature}: used by the code, not granted"
    assert sorted(set(grants) - needed) == [], f"{feature}: granted, used by no call"


@pytest.mark.parametrize("feature", sorted(f for f, spec in FEATURES.items() if spec.flag))
def test_optional_features_are_granted_only_behind_their_switch(bicep, feature):
    spec = FEATURES[feature]
    value = bicep["app/role-definition.bicep"]["variables"][spec.variable]["value"]
    conditional = value["operator"]
    assert conditional["type"] == "conditional"
    assert conditional["operands"]["condition"] == spec.flag
    assert conditional["operands"]["false_value"] == []
    main = bicep["main.bicep"]
    assert main["parameters"][spec.flag]["type"] == "bool"
    assert body(main["modules"]["roles"])["params"][spec.flag] == spec.flag


def test_wide_or_risky_features_are_off_by_default(bicep):
    params = bicep["main.bicep"]["parameters"]
    for flag in ("allowQuiesce", "allowTargetGroupCleanup", "allowRoleAssignmentWrite", "allowSubscriptionScopes"):
        assert params[flag]["default"] is False, flag
    # the move field fixDatastores defaults to true, so the grant does too (docs/deploy.md says how to turn it off)
    assert params["allowDatastoreFix"]["default"] is True


@pytest.mark.parametrize("role", sorted(ROLE_ACTIONS))
def test_each_role_is_built_from_its_features_only(bicep, role):
    variable, extra = ROLE_ACTIONS[role]
    parsed = bicep[ROLE_FILE.get(role, "app/role-definition.bicep")]
    value = parsed["variables"][variable]["value"]
    sources = set(value["function"]["parameters"].values()) if isinstance(value, dict) and "function" in value \
        else {variable}
    expected = {spec.variable for spec in FEATURES.values() if spec.role == role} | extra
    assert sources == expected, (role, sources)


def test_every_custom_role_uses_its_actions_variable(bicep_text):
    text = bicep_text["app/role-definition.bicep"]
    for role, (variable, _) in ROLE_ACTIONS.items():
        if role in ROLE_FILE:
            assert f"actions: {variable}" in bicep_text[ROLE_FILE[role]], role
        else:
            assert f"actions: {variable}" in text, role


def test_no_vault_write_or_dependent_resource_writes(bicep):
    """The move needs moveResources/action on the source and resourceGroups/write on the target only (ARM's move
    checklist); write/delete on storage accounts, vaults, registries would let the app change or grant itself
    access to them (vaults/write edits access policies)."""
    everything = json.dumps({k: v for k, v in bicep.items() if k.startswith("app/role")})
    for action in ("Microsoft.KeyVault/vaults/write", "Microsoft.Storage/storageAccounts/write",
                   "Microsoft.Storage/storageAccounts/delete", "Microsoft.ContainerRegistry/registries/write",
                   "Microsoft.Insights/components/write", "Microsoft.MachineLearningServices/workspaces/write",
                   "Microsoft.MachineLearningServices/workspaces/labeling/projects/read",
                   "Microsoft.Resources/subscriptions/resources/read"):
        assert action not in everything, action


# ---- table <-> docs -----------------------------------------------------------------------------------------


def test_docs_permission_table_is_the_tables_rendering():
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- permissions:begin -->\n(.*?)\n<!-- permissions:end -->", text, re.S)
    assert match, "docs/deploy.md lacks the permissions block"
    assert match.group(1).strip() == permissions.markdown().strip(), (
        "regenerate it: python -m shared.azure.permissions")
