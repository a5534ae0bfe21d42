"""Bad bodies are a 400/413 naming the field and a target outside the allow-list a 403, all before any ARM call."""

import pytest

from handlers.http import MAX_BODY_BYTES
from tests.conftest import SUB_DEV, rg_id, ws_id
from tests.preflight.conftest import PROD

STORAGE = f"{rg_id(SUB_DEV, 'rg-ml-dev')}/providers/Microsoft.Storage/storageAccounts/stwsquiet"


@pytest.mark.parametrize(
    "raw, status, target",
    [
        (b"", 400, "body"),
        (b"{not json", 400, "body"),
        (b"[1, 2]", 400, "body"),
        ({"targetResourceGroupId": PROD}, 400, "workspaceId"),
        ({"workspaceId": ws_id("ws-quiet")}, 400, "targetResourceGroupId"),
        ({"workspaceId": ["x"], "targetResourceGroupId": PROD}, 400, "workspaceId"),
        ({"workspaceId": "/subscriptions/123/resourceGroups/x", "targetResourceGroupId": PROD}, 400, "workspaceId"),
        ({"workspaceId": STORAGE, "targetResourceGroupId": PROD}, 400, "workspaceId"),
        ({"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": STORAGE}, 400, "targetResourceGroupId"),
        (
            {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev")},
            400,
            "targetResourceGroupId",
        ),
        (
            {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": PROD, "includeResources": [STORAGE, "nope"]},
            400,
            "includeResources[1]",
        ),
        (
            {
                "workspaceId": ws_id("ws-quiet"),
                "targetResourceGroupId": PROD,
                "includeResources": [STORAGE.replace("rg-ml-dev", "rg-ml-dev-2")],
            },
            400,
            "includeResources[0]",
        ),
        (
            {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": PROD, "includeAssociated": "true"},
            400,
            "includeAssociated",
        ),
        (
            {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": PROD, "createTargetResourceGroup": 0},
            400,
            "createTargetResourceGroup",
        ),
        ({"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": PROD, "dryRun": True}, 400, "dryRun"),
        ({"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": PROD, "pad": "x" * MAX_BODY_BYTES}, 413, "body"),
    ],
)
def test_bad_bodies_name_the_field_and_reach_no_arm(validate, arm_calls, raw, status, target):
    answer = validate(raw=raw)
    assert answer.status == status
    error = answer.body["error"]
    assert error["target"] == target
    assert error["message"] and error["code"]
    assert arm_calls() == []


def test_target_outside_the_allow_list_is_403_without_any_arm_call(validate, arm_calls):
    answer = validate("ws-quiet", rg_id(SUB_DEV, "rg-ml-dev-3"))
    assert answer.status == 403
    assert answer.body["error"]["code"] == "TargetNotAllowed"
    assert answer.body["error"]["target"] == "targetResourceGroupId"
    assert arm_calls() == []


def test_empty_allow_list_refuses_every_move(validate, arm_calls, monkeypatch):
    from shared.azure.clients import reset_clients

    monkeypatch.setenv("AML_LIFECYCLE_ALLOWED_TARGETS", "")
    reset_clients()
    answer = validate("ws-quiet", PROD)
    assert answer.status == 403 and "empty" in answer.body["error"]["message"]
    assert arm_calls() == []


def test_move_only_fields_are_accepted_so_one_body_serves_both_routes(validate):
    answer = validate("ws-quiet", PROD, approvePrivateEndpoints="none", fixDatastores=False)
    assert answer.status == 200 and answer.body["ready"] is True
