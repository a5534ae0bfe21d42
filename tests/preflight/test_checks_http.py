"""Each preflight check through POST /api/moves/validate against the simulator's seeded workspaces."""

import pytest

from tests.conftest import SUB_DEV, SUB_PARTNER, SUB_PROD, SUB_SANDBOX, rg_id, ws_id
from tests.preflight.conftest import PROD

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
CHECK_IDS = [
    "region.same",
    "tenant.same",
    "target.resource-group",
    "target.providers-registered",
    "workspace.no-cmk",
    "workspace.no-computes",
    "workspace.no-online-endpoints",
    "workspace.no-batch-endpoints",
    "workspace.no-active-jobs",
    "workspace.no-labeling-projects",
    "workspace.no-databricks-link",
    "workspace.kind",
    "workspace.hub-projects",
    "workspace.managed-network",
    "workspace.no-serverless-endpoints",
    "workspace.no-deployed-services",
    "workspace.no-data-profiling",
    "target.name-free",
    "policy.allowed-target",
    "private-endpoints.reapproval",
    "datastores.nondefault",
    "role-assignments.not-moved",
]


def test_quiet_workspace_is_ready_with_warnings_for_what_the_move_leaves_to_do(validate):
    answer = validate("ws-quiet", PROD)
    assert answer.status == 200
    assert [c["id"] for c in answer.body["checks"]] == CHECK_IDS
    assert answer.body["ready"] is True
    assert answer.body["armValidation"] == {"status": "succeeded"}
    assert answer.body["resources"] == [ws_id("ws-quiet")]
    for check in answer.body["checks"]:
        assert check["status"] in ("passed", "warning"), check
        assert check["message"]
        if check["status"] == "warning":
            assert check["remediation"]


def test_region_same(validate):
    assert validate("ws-quiet", PROD).status_of("region.same") == "passed"
    failed = validate("ws-quiet", rg_id(SUB_PROD, "rg-ml-prod-us"))
    check = failed.check("region.same")
    assert check["status"] == "failed"
    assert "westeurope" in check["message"] and "eastus" in check["message"]
    assert failed.body["ready"] is False
    assert failed.body["armValidation"]["status"] == "skipped"


def test_tenant_same(validate):
    assert validate("ws-quiet", PROD).status_of("tenant.same") == "passed"
    # ARM answers reads of a foreign-tenant subscription 401 InvalidAuthenticationTokenTenant: failed, not skipped.
    answer = validate("ws-quiet", rg_id(SUB_PARTNER, "rg-partner"))
    check = answer.check("tenant.same")
    assert check["status"] == "failed"
    assert "another Microsoft Entra tenant" in check["message"] and "InvalidAuthenticationTokenTenant" in check["message"]
    assert "tenant" in check["remediation"]
    assert answer.body["ready"] is False


def test_target_resource_group_missing(validate):
    missing = validate("ws-quiet", rg_id(SUB_PROD, "rg-not-there"))
    assert missing.status_of("target.resource-group") == "failed"
    assert "createTargetResourceGroup" in missing.check("target.resource-group")["remediation"]
    assert missing.body["ready"] is False


def test_target_resource_group_created_when_asked_and_everything_else_passed(validate, sim, arm_calls):
    target = rg_id(SUB_PROD, "rg-ml-prod-new")
    answer = validate("ws-quiet", target, createTargetResourceGroup=True)
    check = answer.check("target.resource-group")
    assert check["status"] == "passed" and "created" in check["message"]
    assert answer.body["targetResourceGroupCreated"] is True
    assert answer.body["ready"] is True
    group = sim.control("GET", "state").json()["resourceGroups"]
    assert any(g["id"].lower() == target.lower() and g["location"] == "westeurope" for g in group)


def test_target_resource_group_not_created_when_another_check_fails(validate, arm_calls):
    target = rg_id(SUB_PROD, "rg-ml-prod-new")
    answer = validate("ws-computes", target, createTargetResourceGroup=True)
    assert answer.status_of("workspace.no-computes") == "failed"
    assert answer.status_of("target.resource-group") == "passed"  # it would be created
    assert answer.body["targetResourceGroupCreated"] is False
    assert not [c for c in arm_calls() if c["method"] == "PUT"]


def test_target_providers_registered(validate):
    assert validate("ws-quiet", DEV2).status_of("target.providers-registered") == "passed"
    warning = validate("ws-quiet", PROD).check("target.providers-registered")
    assert warning["status"] == "warning" and "Microsoft.Notebooks" in warning["message"]
    failed = validate("ws-quiet", rg_id(SUB_SANDBOX, "rg-sandbox")).check("target.providers-registered")
    assert failed["status"] == "failed"
    assert "Microsoft.MachineLearningServices" in failed["message"] and "Microsoft.KeyVault" in failed["message"]
    assert "az provider register" in failed["remediation"]


def test_microsoft_insights_not_registered_fails_naming_it(validate, arm_post):
    arm_post(f"/subscriptions/{SUB_PROD}/providers/Microsoft.Insights/unregister")
    answer = validate("ws-quiet", PROD)
    failed = answer.check("target.providers-registered")
    assert failed["status"] == "failed", failed
    assert "Microsoft.Insights" in failed["message"] and "Application Insights" in failed["message"]
    assert [i["namespace"] for i in failed["items"] if i["required"]] == ["Microsoft.Insights"]
    assert answer.body["ready"] is False


def test_workspace_no_cmk(validate):
    assert validate("ws-quiet", PROD).status_of("workspace.no-cmk") == "passed"
    check = validate("ws-cmk", PROD).check("workspace.no-cmk")
    assert check["status"] == "failed" and "customer-managed key" in check["message"]


def test_workspace_no_computes_lists_every_compute_including_provisioning_ones(validate):
    assert validate("ws-quiet", PROD).status_of("workspace.no-computes") == "passed"
    check = validate("ws-computes", PROD).check("workspace.no-computes")
    assert check["status"] == "failed"
    assert {(i["name"], i["type"]) for i in check["items"]} == {
        ("ci-dev", "ComputeInstance"),
        ("cpu-cluster", "AmlCompute"),
    }
    assert {i["provisioningState"] for i in check["items"]} == {"Succeeded", "Creating"}


def test_workspace_no_online_endpoints_lists_deployments(validate):
    assert validate("ws-quiet", PROD).status_of("workspace.no-online-endpoints") == "passed"
    check = validate("ws-online", PROD).check("workspace.no-online-endpoints")
    assert check["status"] == "failed"
    assert [(i["name"], i["deployments"]) for i in check["items"]] == [("ep-scoring", ["blue"])]


def test_workspace_no_batch_endpoints(validate):
    assert validate("ws-quiet", PROD).status_of("workspace.no-batch-endpoints") == "passed"
    check = validate("ws-batch", PROD).check("workspace.no-batch-endpoints")
    assert check["status"] == "failed" and [i["name"] for i in check["items"]] == ["be-nightly"]


def test_workspace_no_active_jobs_names_unfinished_jobs_only(validate):
    assert validate("ws-quiet", PROD).status_of("workspace.no-active-jobs") == "passed"
    check = validate("ws-jobs", PROD).check("workspace.no-active-jobs")
    assert check["status"] == "failed"
    # Paging stops at the first page holding an active job: those are named, finished ones never.
    found = {(i["name"], i["status"]) for i in check["items"]}
    assert found and found <= {("job-queued", "Queued"), ("job-running", "Running")}


@pytest.mark.parametrize("running, status", [(0, "passed"), (1, "failed")])
def test_thousands_of_finished_jobs_are_paged_through_not_skipped(validate, sim, running, status):
    sim.control("POST", "settings", json={"pageSizes": {"jobs": 100}})
    sim.control("POST", "jobs", json={"workspaceId": ws_id("ws-quiet"), "count": 5000, "status": "Completed"})
    if running:  # after every finished one: found on the last page
        sim.control("POST", "jobs", json={"workspaceId": ws_id("ws-quiet"), "count": 1, "status": "Running",
                                          "prefix": "late"})
    check = validate("ws-quiet", PROD).check("workspace.no-active-jobs")
    assert check["status"] == status, check
    if running:
        assert [i["name"] for i in check["items"]] == ["late-000000"]


def test_online_endpoints_whose_deployments_cannot_be_read_still_fail_the_check(validate, fault, fast_retries):
    fault("/onlineEndpoints/[^/]+/deployments$", kind="error", status=500, count=100)
    check = validate("ws-online", PROD).check("workspace.no-online-endpoints")
    assert check["status"] == "failed", check
    assert check["items"] and all("deploymentsError" in i for i in check["items"])


def test_workspace_no_labeling_projects_is_a_warning_saying_how_to_check(validate):
    check = validate("ws-quiet", PROD).check("workspace.no-labeling-projects")
    assert check["status"] == "warning"
    assert "cannot be verified" in check["message"] and "studio" in check["remediation"]


def test_workspace_no_databricks_link(validate):
    assert validate("ws-quiet", PROD).status_of("workspace.no-databricks-link") == "passed"
    check = validate("ws-databricks", PROD).check("workspace.no-databricks-link")
    assert check["status"] == "failed"
    assert [i["id"].rsplit("/", 1)[-1] for i in check["items"]] == ["dbw-ml"]


def test_target_name_free_consults_the_retention_ledger(validate, ledger_row):
    ledger_row(SUB_PROD, "rg-ml-prod", "ws-twin", purge_in_days=10)
    answer = validate("ws-twin", PROD)
    check = answer.check("target.name-free")
    assert check["status"] == "failed"
    assert "soft-deleted" in check["message"] and "purge" in check["remediation"]
    assert answer.body["armValidation"]["status"] == "skipped"


def test_target_name_free_is_unknown_where_the_ledger_cannot_know(validate, ledger_row):
    # The sandbox subscription is not watched: its soft-deleted workspaces never reach the ledger.
    check = validate("ws-quiet", rg_id(SUB_SANDBOX, "rg-sandbox")).check("target.name-free")
    assert check["status"] == "warning" and check["message"].startswith("unknown"), check
    # A soft-deleted workspace of that name in another group of the target subscription: the docs do not say.
    ledger_row(SUB_PROD, "rg-other", "ws-quiet", purge_in_days=10)
    other = validate("ws-quiet", PROD).check("target.name-free")
    assert other["status"] == "warning" and "rg-other" in other["message"], other


@pytest.mark.parametrize("state, purge_in_days", [("SoftDeleted", -1), ("PermanentlyDeleted", 10), ("Recovered", 10)])
def test_target_name_free_when_the_ledger_row_no_longer_holds_the_name(validate, ledger_row, state, purge_in_days):
    ledger_row(SUB_PROD, "rg-ml-prod", "ws-quiet", state=state, purge_in_days=purge_in_days)
    assert validate("ws-quiet", PROD).status_of("target.name-free") == "passed"


def test_policy_allowed_target_passes_once_the_allow_list_let_the_request_through(validate):
    assert validate("ws-quiet", DEV2).status_of("policy.allowed-target") == "passed"


def test_private_endpoints_reapproval_lists_connections(validate):
    assert validate("ws-computes", PROD).status_of("private-endpoints.reapproval") == "passed"
    check = validate("ws-private", PROD).check("private-endpoints.reapproval")
    assert check["status"] == "warning"
    assert sorted(i["privateEndpointId"].rsplit("/", 1)[-1] for i in check["items"]) == [
        "pe-ws-private-1",
        "pe-ws-private-2",
    ]


def test_datastores_nondefault_lists_the_subscription_and_group_they_name(validate):
    assert validate("ws-computes", PROD).status_of("datastores.nondefault") == "passed"
    check = validate("ws-quiet", PROD).check("datastores.nondefault")
    assert check["status"] == "warning"
    assert [(i["name"], i["subscriptionId"], i["resourceGroup"]) for i in check["items"]] == [
        ("trainingdata", SUB_DEV, "rg-ml-dev")
    ]
    assert "key" not in str(check["items"]).lower().replace("keyvault", "")


def test_role_assignments_not_moved_lists_workspace_scope_assignments_only(validate):
    assert validate("ws-computes", PROD).status_of("role-assignments.not-moved") == "passed"
    check = validate("ws-quiet", PROD).check("role-assignments.not-moved")
    assert check["status"] == "warning"
    assert [(i["principalId"], i["principalType"]) for i in check["items"]] == [
        ("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "Group")
    ]


def test_include_associated_moves_the_workspace_dependencies_in_its_group(validate, arm_calls):
    answer = validate("ws-quiet", PROD, includeAssociated=True)
    assert answer.body["ready"] is True
    names = [rid.rsplit("/", 1)[-1] for rid in answer.body["resources"]]
    assert names == ["ws-quiet", "stwsquiet", "kv-ws-quiet", "appi-ws-quiet", "crwsquiet"]


def test_missing_workspace_is_a_404(validate):
    answer = validate("ws-nothere", PROD)
    assert answer.status == 404
    assert answer.body["error"]["target"] == "workspaceId"


def test_target_resource_group_creation_refused_by_arm_fails_the_check(validate, fault):
    fault("resourcegroups/rg-ml-prod-new$", "error", status=403, count=5, method="PUT")
    answer = validate("ws-quiet", rg_id(SUB_PROD, "rg-ml-prod-new"), createTargetResourceGroup=True)
    check = answer.check("target.resource-group")
    assert check["status"] == "failed" and "could not be created" in check["message"] and "403" in check["message"]
    assert answer.body["targetResourceGroupCreated"] is False
    assert answer.body["armValidation"]["status"] == "skipped"


def test_unknown_target_subscription_fails_tenant_check_and_does_not_blame_providers(validate, monkeypatch):
    from shared.azure.clients import reset_clients

    unknown = "55555555-5555-4555-8555-555555555555"
    monkeypatch.setenv("AML_LIFECYCLE_ALLOWED_TARGETS", unknown)
    reset_clients()
    answer = validate("ws-quiet", rg_id(unknown, "rg-x"))
    assert answer.check("tenant.same")["status"] == "failed"
    assert "not visible" in answer.check("tenant.same")["message"]
    providers = answer.check("target.providers-registered")
    assert providers["status"] == "skipped" and "SubscriptionNotFound" in providers["message"]
    assert answer.body["ready"] is False
