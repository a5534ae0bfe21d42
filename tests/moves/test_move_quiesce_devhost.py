"""Quiesce through the dev host: real HTTP, the real Durable engine and timers (shrunk), the simulator's LROs."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import requests

from tests.conftest import SUB_DEV, rg_id, ws_id
from tests.moves.busy_workspace import CLUSTER, ENDPOINT, INSTANCE, SPLIT, make_busy
from tests.moves.test_move_devhost import finish_on_a_new_host, poll_move

DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")
SOURCE = ws_id("ws-twin")
TARGET = ws_id("ws-twin", rg="rg-ml-dev-2")
BODY = {"workspaceId": SOURCE, "targetResourceGroupId": DEV2}


def _post(host: Any, path: str, body: dict) -> requests.Response:
    return requests.post(f"{host.url}/api/{path}", json=body, headers={"x-functions-key": host.key}, timeout=120)


def _workload(sim: Any, workspace_id: str) -> dict[str, dict]:
    prefix = workspace_id.lower() + "/"
    return {r["id"].lower()[len(prefix):]: r for r in sim.control("GET", "state").json()["resources"]
            if r["id"].lower().startswith(prefix) and ("/computes/" in r["id"].lower()
                                                        or "/onlineendpoints/" in r["id"].lower())}


def _check_restored(sim: Any, view: dict) -> None:
    new_name = view["renamedComputes"][INSTANCE]
    there = _workload(sim, TARGET)
    assert sorted(there) == sorted([
        f"computes/{new_name.lower()}", f"computes/{CLUSTER}", f"onlineendpoints/{ENDPOINT}",
        f"onlineendpoints/{ENDPOINT}/deployments/blue", f"onlineendpoints/{ENDPOINT}/deployments/green"])
    assert there[f"onlineendpoints/{ENDPOINT}"]["properties"]["traffic"] == SPLIT
    assert _workload(sim, SOURCE) == {}


def test_busy_workspace_refused_without_quiesce_and_moved_whole_with_it(fast_devhost: Any, sim: Any) -> None:
    make_busy(SOURCE)
    refused = _post(fast_devhost, "moves", BODY)
    assert refused.status_code == 422, refused.text
    failed = {c["id"] for c in refused.json()["checks"] if c["status"] == "failed"}
    assert {"workspace.no-computes", "workspace.no-online-endpoints"} <= failed

    validated = _post(fast_devhost, "moves/validate", {**BODY, "quiesce": True})
    assert validated.status_code == 200 and validated.json()["ready"] is True, validated.text
    checks = {c["id"]: c for c in validated.json()["checks"]}
    assert checks["workspace.no-computes"]["status"] == "warning"
    assert validated.json()["armValidation"]["status"] == "deferred"

    started = _post(fast_devhost, "moves", {**BODY, "quiesce": True})
    assert started.status_code == 202, started.text
    view = poll_move(fast_devhost.url, fast_devhost.key, started.json()["moveId"], timeout=120)
    assert view["state"] == "Succeeded" and view["leftToDo"] == [], view
    _check_restored(sim, view)


def test_dev_host_crash_during_the_restore_resumes_without_duplicates(
    move_env: dict, sim: Any, azurite: Any, tmp_path: Any
) -> None:
    from local.devhost.process import start_devhost

    make_busy(SOURCE)
    sim.control("DELETE", "requests")
    env = {**move_env, "REQUESTS_CA_BUNDLE": sim.ca_bundle, "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
           "AzureWebJobsStorage": azurite.connection_string,  # Durable state in Azurite: it survives the crash
           "AzureFunctionsJobHost__extensions__durableTask__hubName": f"Quiesce{uuid.uuid4().hex[:8]}"}
    first = start_devhost("tests.moves.fast_app:app", app_dir=tmp_path, env=env, timeout=60)
    try:
        started = _post(first, "moves", {**BODY, "quiesce": True})
        assert started.status_code == 202, started.text
        move_id = started.json()["moveId"]
        deadline = time.monotonic() + 120
        while True:  # wait until the restore has begun re-creating things, then crash
            view = requests.get(f"{first.url}/api/moves/{move_id}", headers={"x-functions-key": first.key},
                                timeout=10).json()
            restoring = [i for i in view.get("workload") or [] if i["state"] in ("restoring", "restored")]
            if restoring and not all(i["state"] == "restored" for i in view["workload"]):
                break
            assert view.get("state") not in ("Succeeded", "Failed", "NeedsAttention"), view
            assert time.monotonic() < deadline, view
            time.sleep(0.05)
    finally:
        first.kill()

    view = finish_on_a_new_host(tmp_path, env, move_id)
    assert view["state"] == "Succeeded", view
    _check_restored(sim, view)
    created = Counter(r["path"].lower() for r in sim.control("GET", "requests").json()
                      if r.get("method") == "PUT" and r.get("status") == 201)
    assert created and all(n == 1 for n in created.values()), created  # never created twice
