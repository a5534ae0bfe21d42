"""The quiesce snapshot's definitions (read-only fields and secrets dropped) and the new compute instance names."""

from __future__ import annotations

import re

from shared.moves.workload.snapshot import clean_definition, new_instance_name

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{2,23}$")


def test_compute_definition_keeps_what_recreates_it_and_drops_read_only_fields_and_secrets():
    body = {
        "id": "/x/computes/ci", "name": "ci", "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "systemData": {"createdBy": "a"}, "location": "westeurope",
        "identity": {"type": "SystemAssigned,UserAssigned", "principalId": "p", "tenantId": "t",
                     "userAssignedIdentities": {"/x/uami": {"principalId": "p2", "clientId": "c2"}}},
        "properties": {
            "computeType": "ComputeInstance", "provisioningState": "Succeeded", "createdOn": "2026-01-01",
            "isAttachedCompute": False, "description": "d",
            "properties": {
                "vmSize": "STANDARD_DS3_V2", "state": "Running", "applications": [], "connectivityEndpoints": {},
                "idleTimeBeforeShutdown": "PT30M",
                "schedules": {"computeStartStop": [{"id": "s1", "provisioningStatus": "Completed", "action": "Stop"}]},
                "sshSettings": {"adminPublicKey": "ssh-rsa AAAA", "adminUserPassword": "hunter2"},
            },
        },
    }
    definition, dropped = clean_definition(body, "compute")
    assert set(definition) == {"location", "identity", "properties"}
    assert definition["identity"] == {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {"/x/uami": {}}}
    props = definition["properties"]
    assert set(props) == {"computeType", "description", "properties"}
    inner = props["properties"]
    assert set(inner) == {"vmSize", "idleTimeBeforeShutdown", "schedules", "sshSettings"}
    assert inner["schedules"] == {"computeStartStop": [{"action": "Stop"}]}
    assert inner["sshSettings"] == {"adminPublicKey": "ssh-rsa AAAA"}  # a public key is no secret
    assert dropped == ["properties.properties.sshSettings.adminUserPassword"]
    assert "hunter2" not in repr(definition) and body["properties"]["properties"]["sshSettings"]["adminUserPassword"]


def test_endpoint_definition_drops_uris_and_state():
    body = {"id": "/x", "name": "ep", "location": "westeurope", "kind": "Managed",
            "properties": {"authMode": "Key", "provisioningState": "Succeeded", "scoringUri": "https://s",
                           "swaggerUri": "https://w", "traffic": {"blue": 100}}}
    definition, dropped = clean_definition(body, "endpoint")
    assert definition == {"location": "westeurope", "kind": "Managed",
                          "properties": {"authMode": "Key", "traffic": {"blue": 100}}}
    assert dropped == []


def test_new_instance_names_are_valid_stable_per_move_and_differ_between_moves():
    move = "move-0123456789abcdef-20261130T040000000Z"
    for name in ("ci", "ci-alice", "a-very-long-compute-name-x"):
        new = new_instance_name(name, move)
        assert NAME.match(new) and new != name and new == new_instance_name(name, move)
        assert new.startswith(name[:10])
    assert new_instance_name("ci-alice", move) != new_instance_name("ci-alice", move.replace("0400", "0500"))


def test_secret_looking_environment_variables_are_dropped_by_name():
    body = {"location": "westeurope", "properties": {"model": "azureml:m:1", "environmentVariables": {
        "API_KEY": "k1", "DB_PASSWORD": "p1", "HF_TOKEN": "t1", "LOG_LEVEL": "debug"}}}
    definition, dropped = clean_definition(body, "deployment")
    assert definition["properties"]["environmentVariables"] == {"LOG_LEVEL": "debug"}
    assert sorted(dropped) == ["properties.environmentVariables.API_KEY", "properties.environmentVariables.DB_PASSWORD",
                               "properties.environmentVariables.HF_TOKEN"]


class _NoCalls:
    """A gateway that must not be called: the items below settle without ARM."""

    def __getattr__(self, name):
        raise AssertionError(f"unexpected ARM call {name}")


def test_compensation_settles_untouched_items_and_jobs_without_arm():
    from shared.moves.workload.restore import restore_pass

    items = [
        {"kind": "endpoint", "name": "ep", "state": "present"},
        {"kind": "deployment", "endpoint": "ep", "name": "blue", "state": "present"},
        {"kind": "traffic", "endpoint": "ep", "name": "ep", "traffic": {"blue": 100}, "state": "present"},
        {"kind": "job", "name": "j1", "state": "canceling"},
        {"kind": "job", "name": "j2", "state": "remove-failed"},
    ]
    assert restore_pass(_NoCalls(), "/ws", items, move_id="m", moved=False) is True
    assert [i["state"] for i in items] == ["kept", "kept", "kept", "canceled", "kept"]
