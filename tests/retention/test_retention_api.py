"""`GET /api/retention` (filters, paging, validation) and `GET /api/retention/{sub}/{rg}/{name}` (404, shape)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.retention.ledger import LedgerRow, LedgerState
from tests.conftest import SUB_DEV, SUB_PROD, call_http, ws_id

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def seeded(events_env, ledger):
    def put(name, state, purge_in_days, sub=SUB_DEV, rg="rg-ml-dev"):
        deleted = NOW + timedelta(days=purge_in_days - 14)
        row = LedgerRow(sub, rg, name, ws_id(name, sub, rg), state, deleted, NOW + timedelta(days=purge_in_days), 14,
                        deleted_by="alice@contoso.com", last_event_time=deleted, last_event_id=f"e-{name}")
        ledger.update(*row.key, lambda current: row)

    put("ws-soon", LedgerState.SOFT_DELETED, 2)
    put("ws-later", LedgerState.SOFT_DELETED, 10)
    put("ws-back", LedgerState.RECOVERED, 5)
    put("ws-gone", LedgerState.EXPIRED, -3, sub=SUB_PROD, rg="rg-ml-prod")
    put("ws-prod-soon", LedgerState.SOFT_DELETED, 1, sub=SUB_PROD, rg="rg-ml-prod")
    return events_env


def listed(functions, **params) -> dict:
    response = call_http(functions, "retention_list", params={k: str(v) for k, v in params.items()})
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def names(body: dict) -> list[str]:
    return sorted(r["workspaceName"] for r in body["value"])


def test_list_all_and_each_filter(functions, seeded):
    assert names(listed(functions)) == ["ws-back", "ws-gone", "ws-later", "ws-prod-soon", "ws-soon"]
    assert names(listed(functions, subscriptionId=SUB_PROD)) == ["ws-gone", "ws-prod-soon"]
    assert names(listed(functions, state="recovered")) == ["ws-back"]
    assert names(listed(functions, expiringWithinDays=3)) == ["ws-prod-soon", "ws-soon"]
    assert names(listed(functions, expiringWithinDays=3, subscriptionId=SUB_DEV)) == ["ws-soon"]
    row = next(r for r in listed(functions, state="SoftDeleted")["value"] if r["workspaceName"] == "ws-soon")
    assert row["purgeAfter"] == (NOW + timedelta(days=2)).isoformat().replace("+00:00", "Z") and 47 <= row["hoursLeft"] <= 48
    assert row["workspaceId"] == ws_id("ws-soon") and row["deletedBy"] == "alice@contoso.com"


def test_list_pages_with_top_and_an_opaque_continuation_token(functions, seeded):
    seen, token, pages = [], None, 0
    while True:
        body = listed(functions, top=2, **({"continuationToken": token} if token else {}))
        assert len(body["value"]) <= 2
        seen += names(body)
        pages += 1
        token = body.get("continuationToken")
        if not token:
            break
    assert sorted(seen) == ["ws-back", "ws-gone", "ws-later", "ws-prod-soon", "ws-soon"] and pages >= 3


@pytest.mark.parametrize("params, target", [
    ({"subscriptionId": "not-a-guid"}, "subscriptionId"),
    ({"state": "Deleted"}, "state"),
    ({"expiringWithinDays": "soon"}, "expiringWithinDays"),
    ({"expiringWithinDays": "-1"}, "expiringWithinDays"),
    ({"expiringWithinDays": "2", "state": "Recovered"}, "state"),
    ({"top": "0"}, "top"),
    ({"top": "5000"}, "top"),
    ({"continuationToken": "%%%"}, "continuationToken"),
    ({"colour": "blue"}, "colour"),
])
def test_list_rejects_bad_parameters_naming_them(functions, events_env, params, target):
    response = call_http(functions, "retention_list", params=params)
    assert response.status_code == 400
    assert json.loads(response.get_body())["error"]["target"] == target


def test_get_one_row_and_404_in_the_contract_shape(functions, seeded):
    route = {"subscriptionId": SUB_DEV, "resourceGroup": "RG-ML-DEV", "workspaceName": "ws-back"}
    response = call_http(functions, "retention_get", route_params=route)
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["state"] == "Recovered" and "recovery" not in body
    missing = call_http(functions, "retention_get", route_params={**route, "workspaceName": "ws-never"})
    assert missing.status_code == 404
    error = json.loads(missing.get_body())["error"]
    assert error["code"] == "NotFound" and "ws-never" in error["message"]


@pytest.mark.parametrize("field, value", [("subscriptionId", "nope"), ("resourceGroup", "bad/group"),
                                          ("workspaceName", "x")])
def test_get_rejects_a_bad_route_part_naming_it(functions, events_env, field, value):
    route = {"subscriptionId": SUB_DEV, "resourceGroup": "rg-ml-dev", "workspaceName": "ws-quiet", field: value}
    response = call_http(functions, "retention_get", route_params=route)
    assert response.status_code == 400
    assert json.loads(response.get_body())["error"]["target"] == field
