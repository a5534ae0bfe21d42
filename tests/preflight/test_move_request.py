"""The move request body: every malformed field is a 400 naming it; the allow-list is a 403."""

import pytest

from shared.errors import ApiError
from shared.moves.request import MoveRequest, check_allowed, parse_move_request
from shared.settings import Settings
from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id

WS = ws_id("ws-quiet")
TARGET = rg_id(SUB_PROD, "rg-ml-prod")
STORAGE = f"{rg_id(SUB_DEV, 'rg-ml-dev')}/providers/Microsoft.Storage/storageAccounts/stquiet"


def body(**extra):
    return {"workspaceId": WS, "targetResourceGroupId": TARGET, **extra}


def bad(payload, *, for_move=False) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_move_request(payload, for_move=for_move)
    assert caught.value.status == 400
    return caught.value


def test_minimal_body_parses_with_defaults():
    request = parse_move_request(body())
    assert request.workspace.name == "ws-quiet"
    assert request.target.id == TARGET
    assert request.source.id == rg_id(SUB_DEV, "rg-ml-dev")
    assert (request.include_resources, request.include_associated, request.create_target_resource_group) == (
        (),
        False,
        False,
    )
    assert (request.approve_private_endpoints, request.fix_datastores) == ("pre-existing", True)
    # recreateRoleAssignments belongs to POST /api/moves too: one body serves both routes
    assert parse_move_request(body(recreateRoleAssignments=True)).workspace.id == WS


def test_full_move_body_round_trips_through_json():
    request = parse_move_request(
        body(
            includeResources=[STORAGE],
            includeAssociated=True,
            createTargetResourceGroup=True,
            approvePrivateEndpoints="none",
            fixDatastores=False,
        ),
        for_move=True,
    )
    assert [r.id for r in request.include_resources] == [STORAGE]
    assert request.approve_private_endpoints == "none" and request.fix_datastores is False
    again = MoveRequest.from_json(request.to_json())
    assert again == request
    assert request.to_json()["includeResources"] == [STORAGE]


def test_validate_route_ignores_move_only_fields():
    request = parse_move_request(body(approvePrivateEndpoints="whatever", fixDatastores="no"))
    assert (request.approve_private_endpoints, request.fix_datastores) == ("pre-existing", True)
    # recreateRoleAssignments belongs to POST /api/moves too: one body serves both routes
    assert parse_move_request(body(recreateRoleAssignments=True)).workspace.id == WS


@pytest.mark.parametrize(
    "payload, field, words",
    [
        ({"targetResourceGroupId": TARGET}, "workspaceId", "required"),
        ({"workspaceId": WS}, "targetResourceGroupId", "required"),
        (body(workspaceId=42), "workspaceId", "string"),
        (body(workspaceId="ws-quiet"), "workspaceId", "must start with"),
        (
            body(
                workspaceId="/subscriptions/not-a-guid/resourceGroups/rg/providers/"
                "Microsoft.MachineLearningServices/workspaces/ws-quiet"
            ),
            "workspaceId",
            "GUID",
        ),
        (body(workspaceId=STORAGE), "workspaceId", "Microsoft.MachineLearningServices/workspaces"),
        (body(workspaceId=WS + "/computes/cpu"), "workspaceId", "Microsoft.MachineLearningServices/workspaces"),
        (body(targetResourceGroupId=f"/subscriptions/{SUB_PROD}"), "targetResourceGroupId", "resource group id"),
        (body(targetResourceGroupId=STORAGE), "targetResourceGroupId", "resource group id"),
        (body(targetResourceGroupId=rg_id(SUB_DEV, "RG-ML-DEV")), "targetResourceGroupId", "own resource group"),
        (body(includeResources=STORAGE), "includeResources", "list"),
        (body(includeResources=[7]), "includeResources[0]", "string"),
        (body(includeResources=[STORAGE, "/subscriptions/x"]), "includeResources[1]", "GUID"),
        (body(includeResources=[rg_id(SUB_DEV, "rg-ml-dev")]), "includeResources[0]", "provider resource id"),
        (
            body(includeResources=[STORAGE.replace("rg-ml-dev", "rg-other")]),
            "includeResources[0]",
            "workspace's resource group",
        ),
        (body(includeResources=[WS + "/computes/cpu"]), "includeResources[0]", "child resource"),
        (body(includeAssociated="yes"), "includeAssociated", "true or false"),
        (body(createTargetResourceGroup=1), "createTargetResourceGroup", "true or false"),
        (body(includeAsociated=True), "includeAsociated", "unknown field"),
    ],
)
def test_each_malformed_field_is_named(payload, field, words):
    error = bad(payload)
    assert error.target == field
    assert words.lower() in error.message.lower()


@pytest.mark.parametrize(
    "extra, field",
    [({"approvePrivateEndpoints": "all"}, "approvePrivateEndpoints"), ({"fixDatastores": "true"}, "fixDatastores")],
)
def test_move_only_fields_are_checked_for_the_move_route(extra, field):
    assert bad(body(**extra), for_move=True).target == field


def test_too_many_resources_is_refused():
    many = [f"{rg_id(SUB_DEV, 'rg-ml-dev')}/providers/Microsoft.Storage/storageAccounts/st{i}" for i in range(801)]
    assert bad(body(includeResources=many)).target == "includeResources"


def test_duplicates_and_the_workspace_itself_are_dropped_from_include_resources():
    request = parse_move_request(
        body(includeResources=[STORAGE, STORAGE.upper().replace("/SUBSCRIPTIONS", "/subscriptions"), WS])
    )
    assert len(request.include_resources) == 1


def settings(allowed: str) -> Settings:
    return Settings.from_env(
        {"AML_LIFECYCLE_TABLES": "UseDevelopmentStorage=true", "AML_LIFECYCLE_ALLOWED_TARGETS": allowed}
    )


@pytest.mark.parametrize(
    "allowed",
    [
        SUB_PROD,
        f"/subscriptions/{SUB_PROD}",
        TARGET.upper().replace("/SUBSCRIPTIONS", "/subscriptions"),
        f"{rg_id(SUB_DEV, 'x')},{TARGET}",
    ],
)
def test_allowed_targets(allowed):
    check_allowed(parse_move_request(body()), settings(allowed))


@pytest.mark.parametrize("allowed", ["", SUB_DEV, rg_id(SUB_PROD, "rg-ml-prod-us")])
def test_targets_outside_the_allow_list_are_forbidden(allowed):
    with pytest.raises(ApiError) as caught:
        check_allowed(parse_move_request(body()), settings(allowed))
    assert (caught.value.status, caught.value.code, caught.value.target) == (
        403,
        "TargetNotAllowed",
        "targetResourceGroupId",
    )
