"""The pure preflight rules over hand-built snapshots: no simulator, no storage."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from shared.azure.ml_gateway import Child, Datastore, PrivateEndpointConnection, Workspace
from shared.moves.operations import ArmFailure
from shared.moves.preflight.rules import CheckResult, evaluate
from shared.moves.preflight.validation import MoveReport, move_resources
from shared.moves.request import parse_move_request
from shared.moves.snapshot import (
    OPTIONAL_PROVIDERS,
    REQUIRED_PROVIDERS,
    Group,
    LedgerEntry,
    MoveSnapshot,
    OnlineEndpoint,
    Read,
    RoleAssignment,
)
from tests.conftest import SUB_DEV, SUB_PROD, TENANT, rg_id, ws_id

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
DEV = rg_id(SUB_DEV, "rg-ml-dev")
STORAGE = f"{DEV}/providers/Microsoft.Storage/storageAccounts/st"
OTHER_KV = f"{rg_id(SUB_DEV, 'rg-shared')}/providers/Microsoft.KeyVault/vaults/kv"


def workspace(**changes) -> Workspace:
    base = Workspace(ws_id("ws-a"), "ws-a", "westeurope", False, STORAGE, OTHER_KV, None, None, None, "Enabled")
    return replace(base, **changes)


def snapshot(**changes) -> MoveSnapshot:
    request = parse_move_request(
        {"workspaceId": ws_id("ws-a"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-b"), **changes.pop("body", {})}
    )
    base = MoveSnapshot(
        request,
        workspace=Read(workspace()),
        source_tenant=Read(TENANT),
        target_tenant=Read(TENANT),
        target_group=Read(Group(rg_id(SUB_PROD, "rg-b"), "westeurope")),
        providers={ns: Read("Registered") for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)},
        computes=Read([]),
        online_endpoints=Read([]),
        batch_endpoints=Read([]),
        active_jobs=Read([]),
        databricks_links=Read([]),
        target_ledger=Read([]),
        target_workspace_exists=Read(False),
        private_endpoints=Read([]),
        datastores=Read([]),
        role_assignments=Read([]),
    )
    return replace(base, **changes)


def results(snap: MoveSnapshot) -> dict[str, CheckResult]:
    return {c.id: c for c in evaluate(snap, now=NOW)}


def test_a_clean_snapshot_passes_everything_but_the_labeling_warning():
    found = results(snapshot())
    assert {cid for cid, c in found.items() if c.status != "passed"} == {
        "workspace.no-labeling-projects", "workspace.no-deployed-services", "workspace.no-data-profiling"}
    assert not any(c.blocks for c in found.values())


@pytest.mark.parametrize(
    "changes, check_id, status",
    [
        ({"target_group": Read(Group("x", "eastus"))}, "region.same", "failed"),
        ({"target_group": Read(None)}, "region.same", "skipped"),
        ({"target_group": Read(None), "body": {"createTargetResourceGroup": True}}, "region.same", "passed"),
        ({"target_tenant": Read("bbbbbbbb-0000-4000-8000-000000000002")}, "tenant.same", "failed"),
        ({"target_tenant": Read(None)}, "tenant.same", "failed"),
        ({"target_group": Read(None)}, "target.resource-group", "failed"),
        ({"target_group": Read(None), "body": {"createTargetResourceGroup": True}}, "target.resource-group", "passed"),
        ({"workspace": Read(workspace(cmk_enabled=True))}, "workspace.no-cmk", "failed"),
        ({"computes": Read([Child("c", "cpu", "AmlCompute", "Creating")])}, "workspace.no-computes", "failed"),
        (
            {"online_endpoints": Read([OnlineEndpoint(Child("e", "ep", "OnlineEndpoint", "Succeeded"))])},
            "workspace.no-online-endpoints",
            "failed",
        ),
        (
            {"batch_endpoints": Read([Child("b", "be", "BatchEndpoint", "Succeeded")])},
            "workspace.no-batch-endpoints",
            "failed",
        ),
        ({"active_jobs": Read([Child("j", "job", "Command", "Running")])}, "workspace.no-active-jobs", "failed"),
        ({"databricks_links": Read(["/subscriptions/x/dbw"])}, "workspace.no-databricks-link", "failed"),
        ({"target_workspace_exists": Read(True)}, "target.name-free", "failed"),
        ({"target_ledger": Read([LedgerEntry("SoftDeleted", NOW + timedelta(days=1), "rg-b")])}, "target.name-free",
         "failed"),
        ({"target_ledger": Read([LedgerEntry("SoftDeleted", NOW - timedelta(seconds=1), "rg-b")])},
         "target.name-free", "passed"),
        ({"target_ledger": Read([LedgerEntry("Expired", NOW + timedelta(days=1), "rg-b")])}, "target.name-free",
         "passed"),
        # Another group of the target subscription: the docs do not say whether that reserves the name here.
        ({"target_ledger": Read([LedgerEntry("SoftDeleted", NOW + timedelta(days=1), "rg-other")])},
         "target.name-free", "warning"),
        # The ledger does not watch the target subscription: unknown, not passed.
        ({"ledger_covers_target": False}, "target.name-free", "warning"),
        ({"target_tenant": Read("InvalidAuthenticationTokenTenant")}, "tenant.same", "failed"),
        ({"providers": {ns: Read("Registered" if ns != "Microsoft.Insights" else "NotRegistered")
                        for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)}}, "target.providers-registered", "failed"),
        # Endpoints listed, their deployments unreadable: still a blocker, named.
        ({"online_endpoints": Read([OnlineEndpoint(Child("e", "ep", "OnlineEndpoint", "Succeeded"),
                                                   deployments_error="HTTP 500")])},
         "workspace.no-online-endpoints", "failed"),
        # Jobs paging broke off after an active job was found: still failed, naming it.
        ({"active_jobs": Read([Child("j", "job", "Command", "Running")], error="page 7: HTTP 500")},
         "workspace.no-active-jobs", "failed"),
        ({"active_jobs": Read([], error="page 7: HTTP 500")}, "workspace.no-active-jobs", "skipped"),
        (
            {"private_endpoints": Read([PrivateEndpointConnection("p", "pec", "/pe", "Approved", "Succeeded")])},
            "private-endpoints.reapproval",
            "warning",
        ),
        (
            {
                "datastores": Read(
                    [Datastore("d", "data", "AzureBlob", False, SUB_DEV, "rg-ml-dev", "st", "AccountKey")]
                )
            },
            "datastores.nondefault",
            "warning",
        ),
        (
            {"datastores": Read([Datastore("d", "blob", "AzureBlob", True, None, None, "st", "AccountKey")])},
            "datastores.nondefault",
            "passed",
        ),
        (
            {"role_assignments": Read([RoleAssignment("r", "p", "User", "/rd")])},
            "role-assignments.not-moved",
            "warning",
        ),
    ],
)
def test_each_rule(changes, check_id, status):
    check = results(snapshot(**changes))[check_id]
    assert check.status == status, check
    assert check.message
    if status != "passed":
        assert check.remediation


def test_providers_required_missing_fail_and_optional_missing_warn():
    providers = {ns: Read("Registered") for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)}
    warn = results(snapshot(providers={**providers, "Microsoft.ContainerService": Read("NotRegistered")}))
    assert warn["target.providers-registered"].status == "warning"
    fail = results(snapshot(providers={**providers, "Microsoft.KeyVault": Read("Registering")}))
    assert fail["target.providers-registered"].status == "failed"
    assert [i["namespace"] for i in fail["target.providers-registered"].items] == ["Microsoft.KeyVault"]


def test_a_failed_read_skips_the_checks_built_on_it_with_the_reason():
    found = results(snapshot(workspace=Read(error="HTTP 503 ServiceUnavailable: busy")))
    for cid in ("region.same", "workspace.no-cmk"):
        assert found[cid].status == "skipped" and "503" in found[cid].message and found[cid].blocks
    assert found["workspace.no-computes"].status == "passed"


def test_skipped_informational_checks_do_not_block():
    found = results(snapshot(role_assignments=Read(error="HTTP 500")))
    assert found["role-assignments.not-moved"].status == "skipped"
    assert not found["role-assignments.not-moved"].blocks


def test_move_resources_adds_only_dependencies_in_the_source_group_when_asked():
    assert move_resources(snapshot()) == [ws_id("ws-a")]
    assert move_resources(snapshot(body={"includeAssociated": True})) == [ws_id("ws-a"), STORAGE]


def test_arm_error_details_are_flattened_into_per_resource_reasons():
    details = [
        {"code": "A", "target": "/r1", "message": "first"},
        {"code": "Outer", "target": "/r2", "details": [{"code": "Inner", "message": "second"}]},
    ]
    failure = ArmFailure.from_body(409, {"error": {"code": "X", "message": "m", "details": details}})
    assert list(failure.reasons) == [
        {"target": "/r1", "code": "A", "message": "first"},
        {"target": "/r2", "code": "Inner", "message": "second"},
    ]


def test_report_round_trips_through_json():
    checks = evaluate(
        snapshot(private_endpoints=Read([PrivateEndpointConnection("p", "pec", "/pe", "Approved", None)])), now=NOW
    )
    report = MoveReport(True, checks, {"status": "succeeded"}, [ws_id("ws-a")], workspace_location="westeurope")
    again = MoveReport.from_json(report.to_json())
    assert again.to_json() == report.to_json()
    assert again.private_endpoints == [{"id": "p", "name": "pec", "privateEndpointId": "/pe", "status": "Approved"}]
    assert "remediation" not in report.to_json()["checks"][0]  # passed checks carry no remediation


def test_missing_providers_are_each_named_with_what_they_are_for():
    providers = {ns: Read("Registered") for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)}
    providers.update({"Microsoft.Insights": Read("NotRegistered"), "Microsoft.KeyVault": Read("Unregistered")})
    check = results(snapshot(providers=providers))["target.providers-registered"]
    assert "Microsoft.Insights" in check.message and "Application Insights" in check.message
    assert "Microsoft.KeyVault" in check.message and "key vault" in check.message
    optional = {ns: Read("Registered") for ns in (*REQUIRED_PROVIDERS, *OPTIONAL_PROVIDERS)}
    optional.update({ns: Read("NotRegistered") for ns in OPTIONAL_PROVIDERS})
    warning = results(snapshot(providers=optional))["target.providers-registered"]
    assert warning.status == "warning"
    assert "integrated notebooks" in warning.message and "Azure Kubernetes Service" in warning.message


def test_compute_remediation_says_to_use_new_names():
    check = results(snapshot(computes=Read([Child("c", "ci-1", "ComputeInstance", "Succeeded")])))
    assert "new names" in check["workspace.no-computes"].remediation.lower()
