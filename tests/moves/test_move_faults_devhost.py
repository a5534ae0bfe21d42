"""Crashes mid-move through the dev host (real Durable engine, state in Azurite): the host killed while ARM's
moveResources runs, and Azurite killed -9 mid-move. Each ends in a clear state matching ARM."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.conftest import SUB_DEV, rg_id, ws_id
from tests.moves.test_move_devhost import finish_on_a_new_host, poll_move

SOURCE, TARGET = ws_id("ws-twin"), ws_id("ws-twin", rg="rg-ml-dev-2")
BODY = {"workspaceId": SOURCE, "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}


def _env(move_env: dict, sim: Any, storage: str) -> dict:
    return {**move_env, "REQUESTS_CA_BUNDLE": sim.ca_bundle, "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
            "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 0 0 1 1 *", "AzureWebJobsStorage": storage,
            "AzureFunctionsJobHost__extensions__durableTask__hubName": f"Faults{uuid.uuid4().hex[:8]}"}


def _start(host: Any) -> str:
    answer = requests.post(f"{host.url}/api/moves", json=BODY, headers={"x-functions-key": host.key}, timeout=120)
    assert answer.status_code == 202, answer.text
    return answer.json()["moveId"]


def _wait_for_the_move_post(sim: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not [r for r in sim.control("GET", "requests").json()
               if r["method"] == "POST" and r["path"].endswith("/moveResources") and r["status"] == 202]:
        assert time.monotonic() < deadline, "moveResources was never posted"
        time.sleep(0.02)


def _where(sim: Any) -> set[str]:
    ids = {r["id"].lower() for r in sim.control("GET", "state").json()["resources"]}
    return {name for name, rid in (("source", SOURCE), ("target", TARGET)) if rid.lower() in ids}


def test_host_killed_while_arm_moves_resumes_and_ends_as_arm_says(move_env: dict, sim: Any, azurite: Any,
                                                                  tmp_path: Any) -> None:
    from local.devhost.process import start_devhost

    sim.control("POST", "settings", json={"unpolledOperationSeconds": 0.5})  # ARM finishes on its own
    env = _env(move_env, sim, azurite.connection_string)
    first = start_devhost("tests.moves.fast_app:app", app_dir=tmp_path, env=env, timeout=60)
    try:
        move_id = _start(first)
        _wait_for_the_move_post(sim)
    finally:
        first.kill()
    view = finish_on_a_new_host(tmp_path, env, move_id)
    assert _where(sim) == {"target"}
    assert view["state"] == "Succeeded" and view["targetWorkspaceId"] == TARGET, view
    assert len([r for r in sim.control("GET", "requests").json()
                if r["method"] == "POST" and r["path"].endswith("/moveResources") and r["status"] == 202]) == 1


def test_azurite_killed_mid_move_ends_clear_once_storage_is_back_without_a_host_restart(
        move_env: dict, sim: Any, tmp_path: Any) -> None:
    from local.azurite import start_azurite
    from local.devhost.process import start_devhost

    sim.control("POST", "settings", json={"unpolledOperationSeconds": 0.5})  # ARM finishes on its own
    location = str(tmp_path / "azurite")
    storage = start_azurite(location)
    env = {**_env(move_env, sim, storage.connection_string), "AML_LIFECYCLE_TABLES": storage.connection_string}
    host = start_devhost("tests.moves.fast_app:app", app_dir=tmp_path, env=env, timeout=60)
    try:
        move_id = _start(host)
        _wait_for_the_move_post(sim)
        # An outage, not a loss: Azure Storage keeps what it acknowledged; Azurite writes its database to disk
        # every few seconds, so the kill waits until the move's row is there.
        deadline = time.monotonic() + 60
        while not any(move_id.encode() in path.read_bytes() for path in Path(location).glob("*table*")
                      if path.is_file()):
            assert time.monotonic() < deadline, "Azurite never persisted the move's row"
            time.sleep(0.2)
        os.killpg(storage.process.pid, signal.SIGKILL)  # storage down mid-move
        storage.process.wait(10)
        deadline = time.monotonic() + 60
        while requests.get(f"{host.url}/api/moves/{move_id}", headers={"x-functions-key": host.key},
                           timeout=60).status_code < 500:  # the outage is visible to the host
            assert time.monotonic() < deadline
            time.sleep(0.1)
        storage = start_azurite(location, ports=storage.ports)  # the outage ends; the host is not restarted
        view = poll_move(host.url, host.key, move_id, timeout=120)
    finally:
        host.stop()
        storage.stop()
    assert _where(sim) == {"target"}
    assert view["state"] in ("Succeeded", "NeedsAttention") and view["targetWorkspaceId"] == TARGET, view
