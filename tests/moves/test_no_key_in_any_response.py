"""No response of any app route, success or error, carries a key: not the function key, the master key nor a system
key (the real app served by the dev host; every HTTP function it indexed must have its cases here)."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id

MOVE = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}
UNKNOWN_MOVE = "move-0000000000000000-20300101T080000000Z"


def cases(started: dict) -> dict[str, list[tuple[str, str, Any]]]:
    """(method, path under /api, JSON body) per HTTP function: its success and its error answers."""
    move_id = started["moveId"]
    return {
        "health": [("GET", "health", None)],
        "coverage": [("GET", "coverage", None)],  # no input, so its error answer is the 401 every case gets
        "retention_list": [("GET", "retention", None), ("GET", "retention?state=Bogus", None)],
        "retention_get": [("GET", f"retention/{SUB_DEV}/rg-ml-dev/ws-none", None),
                          ("GET", "retention/not-a-guid/rg/ws", None)],
        "inventory_backfill": [("POST", "inventory/backfill", {}), ("POST", "inventory/backfill", {"x": 1})],
        "name_check": [("GET", f"names/{SUB_DEV}/rg-ml-dev/ws-quiet", None), ("GET", "names/not-a-guid/rg/ws", None)],
        "retention_purge": [("POST", f"retention/{SUB_DEV}/rg-ml-dev/ws-quiet/purge", {"confirm": "ws-quiet",
                                                                                     "reason": "test"}),
                            ("POST", f"retention/{SUB_DEV}/rg-ml-dev/ws-quiet/purge", {"confirm": "x"})],
        "moves_validate": [("POST", "moves/validate", {"workspaceId": ws_id("ws-quiet"),
                                                       "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}),
                           ("POST", "moves/validate", {"workspaceId": "nope"})],
        "moves_list": [("GET", "moves", None), ("GET", "moves?state=Bogus", None),
                       ("GET", "moves?continuationToken=nope", None)],
        "moves_start": [("POST", "moves", MOVE), ("POST", "moves", {"workspaceId": 1}),
                        ("POST", "moves", {**MOVE, "targetResourceGroupId": rg_id(SUB_DEV, "rg-elsewhere")})],
        "move_status": [("GET", f"moves/{move_id}", None), ("GET", f"moves/{UNKNOWN_MOVE}", None)],
        # Its 202 and 200 are covered by test_move_devhost's slow validation, which checks them for the key too.
        "move_validation_status": [("GET", "moves/validations/validation-" + "0" * 32, None),
                                   ("GET", "moves/validations/nope", None)],
        "move_cancel": [("POST", f"moves/{move_id}/cancel", {"reason": "test", "requestedBy": "pytest"}),
                        ("POST", f"moves/{move_id}/cancel", {"reason": "again", "requestedBy": "pytest"}),
                        ("POST", f"moves/{UNKNOWN_MOVE}/cancel", {"reason": "x", "requestedBy": "y"}),
                        ("POST", f"moves/{move_id}/cancel", {})],
    }


def test_no_response_of_any_route_carries_a_key(fast_devhost: Any, sim: Any) -> None:
    host = fast_devhost
    keys = {"function": host.key, "master": host.master_key, **host.system_keys}
    assert all(keys.values()) and len(keys) == 4
    headers = {"x-functions-key": host.key}
    first = requests.post(f"{host.url}/api/moves", json=MOVE, headers=headers, timeout=60)
    assert first.status_code == 202, first.text
    answers: list[tuple[str, requests.Response]] = [("moves_start", first)]
    table = cases(first.json())
    http_functions = {f["name"] for f in host.functions if f["trigger"] == "httpTrigger"}
    assert http_functions == set(table), "every HTTP route needs its cases here (success and error)"
    for name, calls in table.items():
        for method, path, body in calls:
            answer = requests.request(method, f"{host.url}/api/{path}", json=body, headers=headers, timeout=60)
            answers.append((name, answer))
            answers.append((name, requests.request(method, f"{host.url}/api/{path}", json=body, timeout=60)))  # 401
    answers.append(("openapi", requests.get(f"{host.url}/api/openapi.yaml", timeout=10)))
    statuses = {a.status_code for _, a in answers}
    assert {200, 202, 400, 401, 404, 409} <= statuses, statuses  # successes and errors were both seen
    for name, answer in answers:
        seen = answer.text + json.dumps(dict(answer.headers))
        leaked = [kind for kind, value in keys.items() if value in seen]
        assert not leaked, f"{name} {answer.request.method} {answer.url} -> {answer.status_code} carries {leaked}"
