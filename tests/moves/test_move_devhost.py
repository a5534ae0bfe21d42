"""End to end through the dev host: real HTTP, the real Durable client and engine, real timers (shrunk)."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from shared.moves.plan import instance_id_of
from tests.conftest import SUB_DEV, SUB_PROD, TOPIC, rg_id, ws_id

TERMINAL = {"Succeeded", "Failed", "NeedsAttention"}


def every_key(host: Any) -> list[str]:
    return [host.key, host.master_key, *host.system_keys.values()]


def durable_status_url(host: Any, instance_id: str) -> str:
    return f"{host.url}/runtime/webhooks/durabletask/instances/{instance_id}?code={host.durable_key}"


def durable_final(host: Any, instance_id: str, timeout: float = 30.0) -> dict:
    """The instance's status once it left Pending/Running (through the Durable API with the durabletask key)."""
    deadline = time.monotonic() + timeout
    while (status := requests.get(durable_status_url(host, instance_id), timeout=10).json())["runtimeStatus"] in (
        "Pending",
        "Running",
    ):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return status


def rows(env: dict) -> str:
    from azure.data.tables import TableServiceClient

    client = TableServiceClient.from_connection_string(env["AML_LIFECYCLE_TABLES"]).get_table_client("WorkspaceMoves")
    return json.dumps(sorted((dict(e) for e in client.list_entities()), key=lambda e: e["RowKey"]), default=str)


def poll_move(url: str, key: str, move_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = requests.get(f"{url}/api/moves/{move_id}", headers={"x-functions-key": key}, timeout=10).json()
        if view.get("state") in TERMINAL:
            return view
        if time.monotonic() > deadline:
            raise AssertionError(
                f"move {move_id} not finished within {timeout}s: {view.get('state')} {view.get('steps')}"
            )
        time.sleep(0.2)


def finish_on_a_new_host(app_dir: Any, env: dict, move_id: str, timeout: float = 120.0) -> dict:
    """A fresh dev host on the same storage (the crashed one's successor) runs the move to its end: its final view."""
    from local.devhost.process import start_devhost

    host = start_devhost("tests.moves.fast_app:app", app_dir=app_dir, env=env, timeout=60)
    try:
        return poll_move(host.url, host.key, move_id, timeout=timeout)
    finally:
        host.stop()


def test_start_conflict_poll_until_needs_attention(fast_devhost: Any, sim: Any) -> None:
    host = fast_devhost
    headers = {"x-functions-key": host.key}
    body = {"workspaceId": ws_id("ws-private"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}
    first = requests.post(f"{host.url}/api/moves", json=body, headers=headers, timeout=60)
    assert first.status_code == 202, first.text
    started = first.json()
    assert first.headers["Location"] == started["statusUrl"] == f"{host.url}/api/moves/{started['moveId']}"
    assert set(started) == {"moveId", "statusUrl", "state"}  # no Durable management URL: they carry a system key
    assert not any(k in first.text + json.dumps(dict(first.headers)) for k in every_key(host))

    again = requests.post(f"{host.url}/api/moves", json=body, headers=headers, timeout=60)
    assert again.status_code == 409, again.text
    assert again.json()["moveId"] == started["moveId"]

    view = poll_move(host.url, host.key, started["moveId"])
    assert view["state"] == "NeedsAttention", view
    assert sorted(i["kind"] for i in view["leftToDo"]) == ["approve-private-endpoint", "review-private-endpoint"]
    durable = durable_final(host, started["moveId"][:21])  # the row is written by the last activity, just before
    assert durable["runtimeStatus"] == "Completed" and durable["output"]["state"] == "NeedsAttention"
    assert host.key not in json.dumps(view)
    events = [e["event"] for e in sim.control("GET", f"topics/{TOPIC}/events").json()]
    assert [e["type"] for e in events] == ["AmlLifecycle.Move.NeedsAttention"]


def test_a_validation_taking_minutes_is_202_then_its_report_at_the_status_url(fast_devhost: Any, sim: Any) -> None:
    host = fast_devhost
    headers = {"x-functions-key": host.key}
    sim.control("POST", "settings", json={"validationSeconds": 300})  # ARM: "may take several minutes"
    body = {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}
    first = requests.post(f"{host.url}/api/moves/validate", json=body, headers=headers, timeout=60)
    assert first.status_code == 202, first.text
    status_url = first.headers["Location"]
    assert status_url == first.json()["statusUrl"] and "/api/moves/validations/" in status_url
    running = requests.get(status_url, headers=headers, timeout=10)
    assert running.status_code == 202 and running.json()["status"] == "Running"

    sim.control("POST", "settings", json={"validationSeconds": 0})  # ARM finishes; the orchestration's timer polls
    deadline = time.monotonic() + 60
    while (done := requests.get(status_url, headers=headers, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, "the validation's report did not come"
        time.sleep(0.2)
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["ready"] is True and report["armValidation"] == {"status": "succeeded"}
    assert host.key not in done.text


def test_hand_started_orchestrator_with_a_forbidden_target_fails_and_writes_nothing(
    fast_devhost: Any, sim: Any, move_env: dict
) -> None:
    """What someone holding the durabletask system key could do: start move_orchestrator by hand, through the dev
    host's Durable HTTP API, with a target outside the allow-list and an existing move's id."""
    host = fast_devhost
    body = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}
    started = requests.post(f"{host.url}/api/moves", json=body, headers={"x-functions-key": host.key}, timeout=60)
    assert started.status_code == 202, started.text
    existing = started.json()["moveId"]
    assert poll_move(host.url, host.key, existing)["state"] == "Succeeded"
    assert durable_final(host, existing[:21])["runtimeStatus"] == "Completed"  # its last writes are done
    before = rows(move_env)
    sim.control("DELETE", "requests")

    forged = {
        "moveId": existing,
        "request": {"workspaceId": ws_id("ws-twin", rg="rg-ml-dev-2"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-evil"),
                    "createTargetResourceGroup": True},
        "resources": [ws_id("ws-twin", rg="rg-ml-dev-2")],
    }
    instance = existing[:21]
    start_url = f"{host.url}/runtime/webhooks/durabletask/orchestrators/move_orchestrator/{instance}"
    assert requests.post(start_url, json=forged, headers={"x-functions-key": host.key}, timeout=10).status_code == 401
    answer = requests.post(f"{start_url}?code={host.durable_key}", json=forged, timeout=10)
    assert answer.status_code == 202, answer.text
    status = durable_final(host, instance)
    assert status["runtimeStatus"] == "Failed" and "TargetNotAllowed" in json.dumps(status["output"])
    assert [r for r in sim.control("GET", "requests").json() if not r["path"].startswith("/_sim/")] == []
    assert rows(move_env) == before


def test_cancel_while_validating_terminates_the_orchestration_and_audits_the_row(fast_devhost: Any, sim: Any) -> None:
    """The real Durable client terminates the instance; the row says who, when and why; ARM moved nothing."""
    host = fast_devhost
    headers = {"x-functions-key": host.key}
    body = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}
    started = requests.post(f"{host.url}/api/moves", json=body, headers=headers, timeout=60)
    assert started.status_code == 202, started.text
    move_id = started.json()["moveId"]
    # The preflight is done (202); the orchestration's polls of its validation now wait out a long Retry-After.
    sim.control("POST", "faults", json={"path": "/operationresults/", "kind": "throttle", "retryAfter": 120,
                                        "count": 1000})
    deadline = time.monotonic() + 30
    while not any(r["status"] == 429 for r in sim.control("GET", "requests").json()):
        assert time.monotonic() < deadline, "the orchestration never polled its validation"
        time.sleep(0.1)

    who = {"reason": "wrong target", "requestedBy": "alice@contoso.example"}
    cancelled = requests.post(f"{host.url}/api/moves/{move_id}/cancel", json=who, headers=headers, timeout=30)
    assert cancelled.status_code == 200, cancelled.text
    view = cancelled.json()
    assert view["state"] == "Failed" and view["error"]["code"] == "Cancelled"
    (step,) = [s for s in view["steps"] if s["name"] == "cancellation"]
    assert (step["requestedByNote"], step["reason"]) == (who["requestedBy"], who["reason"]) and step["startedAt"]
    assert step["canceledBy"] == {"via": "functionKey"}
    status = durable_final(host, instance_id_of(move_id))
    assert status["runtimeStatus"] == "Terminated"
    writes = [r for r in sim.control("GET", "requests").json() if "moveResources" in r["path"]]
    assert writes == []
    assert requests.get(f"{host.url}/api/moves/{move_id}", headers=headers, timeout=10).json()["state"] == "Failed"
