"""`POST /api/moves` takes `allowUndocumented` like the validate route: without it a feature store's move is 422
"not documented as supported"; with it the move starts and its report keeps the opt-in."""

from __future__ import annotations

from tests import kind_estate as estate
from tests.moves.test_moves_http import DEV2, FakeDurableClient, start, status


def test_a_feature_stores_move_is_refused_without_the_opt_in_and_carries_it_when_given(
        move_env, sim, sim_token, functions):
    ids = estate.build(sim, sim_token)
    body = {"workspaceId": ids[estate.FEATURE_STORE], "targetResourceGroupId": DEV2}
    client = FakeDurableClient()
    code, refused = start(functions, body, client)
    assert code == 422 and "workspace.kind" in refused["error"]["message"] and client.started == []
    kind = next(c for c in refused["checks"] if c["id"] == "workspace.kind")
    assert kind["status"] == "failed" and "not documented as supported" in kind["message"]

    code, answer = start(functions, {**body, "allowUndocumented": ["workspace.kind"]}, client)
    assert code == 202, answer
    ((_, _, plan),) = client.started
    assert plan["request"]["allowUndocumented"] == ["workspace.kind"]
    code, view = status(functions, answer["moveId"])
    assert code == 200 and view["request"]["allowUndocumented"] == ["workspace.kind"]
    (preflight,) = [s for s in view["steps"] if s["name"] == "preflight"]
    assert "workspace.kind" in preflight["warnings"]
