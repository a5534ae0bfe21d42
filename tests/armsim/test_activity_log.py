"""The simulator's Activity Log (ActivityLogs_List 2015-04-01): the spec's $filter patterns, nextLink paging, entries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from azure.core.rest import HttpRequest

from tests.armsim.conftest import SUB_DEV, SUB_PROD, call, ws_id

PATH = f"/subscriptions/{SUB_DEV}/providers/Microsoft.Insights/eventtypes/management/values"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def read(ml, filter_text: str | None, sub: str = SUB_DEV) -> tuple[int, list[dict], int]:
    params = {"api-version": "2015-04-01", **({"$filter": filter_text} if filter_text else {})}
    path = PATH.replace(SUB_DEV, sub)
    response = ml.send_request(HttpRequest("GET", ml.format_url(path), params=params))
    if response.status_code != 200:
        return response.status_code, [], 0
    entries, pages, body = [], 1, response.json()
    entries += body["value"]
    while body.get("nextLink"):
        body = ml.send_request(HttpRequest("GET", body["nextLink"])).json()
        entries += body["value"]
        pages += 1
    return 200, entries, pages


def window(**extra: str) -> str:
    now = datetime.now(timezone.utc)
    text = f"eventTimestamp ge '{stamp(now - timedelta(days=1))}' and eventTimestamp le '{stamp(now + timedelta(minutes=1))}'"
    return " and ".join([text, *(f"{k} eq '{v}'" for k, v in extra.items())])


def test_a_delete_logs_started_accepted_succeeded_with_one_operation_and_correlation(simulator, ml):
    assert call(ml, "DELETE", ws_id("ws-quiet")).status_code == 202
    for _ in range(5):  # the LRO completes after its polls
        call(ml, "GET", f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev")
    simulator.control("PUT", "/_sim/page-sizes", {"activityLog": 1})
    status, entries, pages = read(ml, window(resourceUri=ws_id("ws-quiet")))
    assert status == 200 and pages == len(entries) >= 2
    mine = sorted(entries, key=lambda e: e["eventTimestamp"])
    assert [e["status"]["value"] for e in mine][:2] == ["Started", "Accepted"]
    assert len({e["operationId"] for e in mine}) == 1 and len({e["correlationId"] for e in mine}) == 1
    assert mine[0]["eventName"]["value"] == "BeginRequest" and mine[0]["caller"]
    assert mine[0]["operationName"]["value"] == "Microsoft.MachineLearningServices/workspaces/delete"


def test_only_the_specs_filter_patterns_are_accepted(simulator, ml):
    assert read(ml, None)[0] == 400
    assert read(ml, "resourceProvider eq 'Microsoft.MachineLearningServices'")[0] == 400
    assert read(ml, window(status="Succeeded"))[0] == 400
    assert read(ml, window(resourceProvider="Microsoft.MachineLearningServices"))[0] == 200


def test_the_scenarios_soft_deleted_workspace_is_logged_at_its_deletion_time(simulator, ml):
    status, entries, _ = read(ml, "eventTimestamp ge '2020-01-01T00:00:00Z' and resourceProvider eq "
                                  "'Microsoft.MachineLearningServices'", sub=SUB_PROD)
    assert status == 200
    prod = [e for e in entries if e["resourceId"].endswith("/ws-twin")]
    assert [e["status"]["value"] for e in prod] == ["Succeeded", "Started"]  # newest first
    assert prod[0]["eventTimestamp"].startswith("2026-11-20T09:00:00")
