"""Datastores after a move, both shapes the move page describes, with Azure accepting or refusing in-place changes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id
from tests.moves.conftest import PROD, make_plan
from tests.moves.test_move_scenarios import TRAINING_ACCOUNT, TRAINING_KEY, resource, row

NEW_WS = ws_id("ws-quiet", SUB_PROD, "rg-ml-prod")
DATASTORE = f"{NEW_WS}/datastores/trainingdata"


def secret_now() -> str:
    from shared.azure.clients import get_clients
    from shared.azure.ml_gateway import MlGateway

    return MlGateway(get_clients().arm_pipeline()).list_datastore_secrets(DATASTORE)["key"]


@pytest.mark.parametrize("in_place", ["accept", "refuse"])
@pytest.mark.parametrize(
    "shape, status, method",
    [("empty", "fixed", "PUT"), ("source", "recreated", "DELETE")],
)
def test_each_shape_is_fixed_the_documented_way(run_move, sim, sim_state, sim_requests, shape, status, method,
                                                 in_place):
    sim.control("POST", "settings", json={"datastoreFieldsAfterMove": shape, "datastoreInPlaceChange": in_place})
    plan = make_plan("ws-quiet", PROD, includeResources=[TRAINING_ACCOUNT])
    run_move(plan)
    record = row(plan)
    (datastore,) = record.result["datastores"]
    assert datastore["status"] == status, datastore
    props = resource(sim_state, DATASTORE)["properties"]
    assert (props["subscriptionId"], props["resourceGroup"]) == (SUB_PROD, "rg-ml-prod")
    assert (props["accountName"], props["containerName"]) == ("sttrainingdata", "training")
    assert secret_now() == TRAINING_KEY  # the credentials came along, read through listSecrets only
    calls = [(r["method"], r["status"]) for r in sim_requests() if r["path"].lower() == DATASTORE.lower()]
    assert (method, 200) in calls or (method, 204) in calls
    if shape == "source":  # never an in-place change of a location Azure may refuse
        assert not any(m == "PUT" and code >= 400 for m, code in calls)
    assert "fix-datastore" not in [item["kind"] for item in record.result["leftToDo"]]
    assert TRAINING_KEY not in json.dumps(record.to_entity(), default=str)


def test_a_failed_registration_puts_the_old_one_back_and_says_how_to_redo_it(run_move, sim, sim_state):
    sim.control("POST", "settings", json={"datastoreFieldsAfterMove": "source"})
    # The first PUT after the unregister (the new registration) fails; the restore goes through.
    sim.control("POST", "faults", json={"path": "/datastores/trainingdata$", "method": "PUT", "kind": "error",
                                        "status": 400, "count": 1})
    plan = make_plan("ws-quiet", PROD, includeResources=[TRAINING_ACCOUNT])
    run_move(plan)
    record = row(plan)
    (datastore,) = record.result["datastores"]
    assert datastore["status"] == "recreate-failed" and "old registration was put back" in datastore["message"]
    props = resource(sim_state, DATASTORE)["properties"]
    assert (props["subscriptionId"], props["resourceGroup"]) == (SUB_DEV, "rg-ml-dev")  # as before the move
    assert secret_now() == TRAINING_KEY
    (item,) = [i for i in record.result["leftToDo"] if i["kind"] == "fix-datastore"]
    assert item["redo"]["subscriptionId"] == SUB_PROD and item["redo"]["resourceGroup"] == "rg-ml-prod"
    assert item["redo"]["accountName"] == "sttrainingdata" and item["redo"]["credentialsType"] == "AccountKey"
    assert TRAINING_KEY not in json.dumps(record.to_entity(), default=str)
    assert record.state == "NeedsAttention"


def test_empty_fields_of_a_datastore_whose_account_stayed_name_the_account_again(run_move, sim_state):
    plan = make_plan("ws-quiet", PROD)
    run_move(plan)
    (datastore,) = row(plan).result["datastores"]
    assert datastore["status"] == "fixed"
    props = resource(sim_state, DATASTORE)["properties"]
    assert (props["subscriptionId"], props["resourceGroup"]) == (SUB_DEV, "rg-ml-dev")
    assert rg_id(SUB_DEV, "rg-ml-dev") in datastore["message"]
