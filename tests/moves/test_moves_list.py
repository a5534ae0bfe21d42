"""`GET /api/moves` through its real entry point: newest first, pages that neither repeat nor skip, the filters,
and 400s naming the parameter."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from shared.azure.clients import get_clients
from shared.moves.launch import new_plan, record_start
from shared.moves.request import parse_move_request
from shared.moves.store import MovesStore
from tests.conftest import call_http, ws_id
from tests.moves.conftest import PROD

T0 = datetime(2030, 1, 1, 8, 0, tzinfo=timezone.utc)


def start(workspace: str, minutes: int, state: str | None = None) -> str:
    request = parse_move_request({"workspaceId": ws_id(workspace), "targetResourceGroupId": PROD}, for_move=True)
    at = T0 + timedelta(minutes=minutes)
    plan = new_plan(request, now=at)
    record_start(get_clients(), plan, now=at)
    if state:
        MovesStore.of(get_clients()).update(plan.partition, plan.move_id, lambda r: setattr(r, "state", state))
    return plan.move_id


def listed(functions: dict, **params: str) -> tuple[int, dict]:
    response = call_http(functions, "moves_list", url="https://func.example/api/moves", params=params)
    return response.status_code, json.loads(response.get_body())


def test_newest_first_in_pages_with_filters(move_env, functions):
    oldest = start("ws-quiet", 0, "Succeeded")
    middle = start("ws-twin", 10, "NeedsAttention")
    newest = start("ws-private", 20)

    code, page = listed(functions, top="2")
    assert code == 200 and [m["moveId"] for m in page["value"]] == [newest, middle]
    assert page["value"][0]["statusUrl"] == f"https://func.example/api/moves/{newest}"
    assert page["value"][0]["startedAt"].endswith("Z")
    code, rest = listed(functions, top="2", continuationToken=page["continuationToken"])
    assert [m["moveId"] for m in rest["value"]] == [oldest] and "continuationToken" not in rest

    assert [m["moveId"] for m in listed(functions, state="NeedsAttention")[1]["value"]] == [middle]
    by_workspace = listed(functions, workspaceId=ws_id("ws-quiet").upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"))
    assert [m["moveId"] for m in by_workspace[1]["value"]] == [oldest]


def test_bad_parameters_are_400_naming_them(move_env, functions):
    for params, target in (({"state": "Done"}, "state"), ({"top": "0"}, "top"), ({"top": "x"}, "top"),
                           ({"continuationToken": "bm9wZQ"}, "continuationToken"),
                           ({"workspaceId": "/subscriptions/x"}, "workspaceId"), ({"orderby": "x"}, "orderby")):
        code, body = listed(functions, **params)
        assert code == 400 and body["error"]["target"] == target, (params, body)
