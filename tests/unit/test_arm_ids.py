"""ARM id parsing and building: round trips, case-insensitive equality, precise errors."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.azure import arm_ids
from shared.azure.arm_ids import ArmIdError, ResourceGroupId, ResourceId, SubscriptionId

guids = st.uuids().map(str)
group_names = st.from_regex(r"[A-Za-z0-9_\-()]([A-Za-z0-9_\-.()]{0,88}[A-Za-z0-9_\-()])?", fullmatch=True)
namespaces = st.from_regex(r"Microsoft\.[A-Z][A-Za-z0-9]{1,20}", fullmatch=True)
types = st.from_regex(r"[a-z][A-Za-z0-9]{0,20}", fullmatch=True)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_\-.]{0,40}", fullmatch=True)
ws_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}", fullmatch=True)


@given(guids, group_names, namespaces, st.lists(st.tuples(types, names), min_size=1, max_size=4))
def test_any_resource_id_round_trips_and_compares_case_insensitively(sub, group, namespace, pairs):
    text = f"/subscriptions/{sub}/resourceGroups/{group}/providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in pairs)
    parsed = arm_ids.parse(text)
    assert isinstance(parsed, ResourceId)
    assert parsed.id == text
    assert parsed.name == pairs[-1][1]
    assert parsed.type == "/".join([namespace, *(t for t, _ in pairs)])
    other = arm_ids.parse(text.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/").replace("/RESOURCEGROUPS/", "/resourceGroups/").replace("/PROVIDERS/", "/providers/"))
    assert other == parsed and hash(other) == hash(parsed)
    assert parsed.resource_group_id == ResourceGroupId(sub, group)
    assert ResourceGroupId(sub, group).contains(parsed)


@given(guids, group_names, ws_names)
def test_workspace_ids_build_and_parse(sub, group, name):
    built = arm_ids.workspace_id(sub, group, name)
    assert arm_ids.parse_workspace_id(built.id) == built
    assert built.is_type("microsoft.machinelearningservices/WORKSPACES")
    assert built.parent == ResourceGroupId(sub, group)


@given(guids, group_names)
def test_scopes(sub, group):
    assert arm_ids.parse_scope(f"/subscriptions/{sub}") == SubscriptionId(sub)
    assert arm_ids.parse_scope(f"/subscriptions/{sub}/resourcegroups/{group}/") == ResourceGroupId(sub, group)


def test_child_and_move():
    ws = arm_ids.workspace_id("11111111-1111-4111-8111-111111111111", "rg-a", "ws-1")
    compute = ws.child("computes", "cpu")
    assert compute.type == "Microsoft.MachineLearningServices/workspaces/computes"
    assert compute.parent == ws
    target = ResourceGroupId("22222222-2222-4222-8222-222222222222", "rg-b")
    assert compute.moved_to(target).id.startswith(target.id + "/providers/")


@pytest.mark.parametrize(
    "text, part",
    [
        ("subscriptions/11111111-1111-4111-8111-111111111111", "id"),
        ("/subscriptions/not-a-guid", "subscription id"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups", "resource group name"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/bad name", "resource group name"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg.", "resource group name"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/groups/rg", "id"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers", "provider namespace"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/nodots/x/y", "provider namespace"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Storage", "resource type"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts", "resource name"),
        ("/subscriptions/11111111-1111-4111-8111-111111111111//resourceGroups/rg", "id"),
    ],
)
def test_malformed_ids_name_the_wrong_part(text, part):
    with pytest.raises(ArmIdError) as raised:
        arm_ids.parse(text)
    assert raised.value.part == part
    assert part in str(raised.value)


def test_workspace_id_must_be_a_workspace():
    storage = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
    with pytest.raises(ArmIdError, match="must be Microsoft.MachineLearningServices/workspaces"):
        arm_ids.parse_workspace_id(storage)
    with pytest.raises(ArmIdError, match="workspace name"):
        arm_ids.parse_workspace_id(storage.replace("Microsoft.Storage/storageAccounts/st1", "Microsoft.MachineLearningServices/workspaces/a"))


@given(st.text(max_size=80))
def test_parse_never_raises_anything_but_arm_id_error(text):
    try:
        arm_ids.parse(text)
    except ArmIdError:
        pass
