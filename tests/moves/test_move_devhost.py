"""End to end through the dev host: real HTTP, the real Durable client and engine, real timers (shrunk)."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from tests.conftest import SUB_PROD, TOPIC, rg_id, ws_id

TERMINAL = {"Succeeded", "Failed", "NeedsAttention"}


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


def test_start_conflict_poll_until_needs_attention(fast_devhost: Any, sim: Any) -> None:
    host = fast_devhost
    headers = {"x-functions-key": host.key}
    body = {"workspaceId": ws_id("ws-private"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}
    first = requests.post(f"{host.url}/api/moves", json=body, headers=headers, timeout=60)
    assert first.status_code == 202, first.text
    started = first.json()
    assert first.headers["Location"] == started["statusUrl"] == f"{host.url}/api/moves/{started['moveId']}"
    assert started["statusQueryGetUri"].startswith(
        f"{host.url}/runtime/webhooks/durabletask/instances/{started['instanceId']}"
    )

    again = requests.post(f"{host.url}/api/moves", json=body, headers=headers, timeout=60)
    assert again.status_code == 409, again.text
    assert again.json()["moveId"] == started["moveId"]

    view = poll_move(host.url, host.key, started["moveId"])
    assert view["state"] == "NeedsAttention", view
    assert sorted(i["kind"] for i in view["leftToDo"]) == ["approve-private-endpoint", "review-private-endpoint"]
    durable = requests.get(started["statusQueryGetUri"], timeout=10).json()
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
