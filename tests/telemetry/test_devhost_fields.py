"""Locally, through the dev host with `DEVHOST_LOG_FORMAT=json`: a soft delete and a move write the field set."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.waiting import wait_until
from tests.conftest import SUB_PROD, rg_id, ws_id


@pytest.fixture
def json_devhost(move_env: dict, sim: Any, tmp_path: Any) -> Iterator[Any]:
    """The real app with the move's waits shrunk (tests/moves/fast_app.py), logging JSON lines."""
    from local.devhost.process import start_devhost

    env = {**move_env, "REQUESTS_CA_BUNDLE": sim.ca_bundle, "AzureWebJobsStorage": None,
           "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *", "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 0 0 1 1 *",
           "DEVHOST_LOG_FORMAT": "json",
           "AML_LIFECYCLE_DEV_FUNCTION_KEY": secrets.token_hex(24)}  # set, so the host does not print a generated one
    with start_devhost("tests.moves.fast_app:app", app_dir=tmp_path, env=env, timeout=60) as host:
        yield host


def records(host: Any) -> list[dict]:
    """The dev host's log as JSON objects (every line of it must be one)."""
    return [json.loads(line) for line in host.logs().splitlines() if line.strip()]


def of_kind(host: Any, kind: str) -> list[dict]:
    return [r for r in records(host) if r.get("kind") == kind]


def test_soft_delete_and_move_write_their_fields_as_json_lines(json_devhost: Any, sim: Any, sim_token: str,
                                                                topic_key: str) -> None:
    from shared.azure.clients import get_clients

    host = json_devhost
    webhook = f"{host.url}/runtime/webhooks/eventgrid?functionName=workspace_events&code={host.eventgrid_key}"
    sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook})
    deleted = ws_id("ws-twin")
    get_clients().resources(deleted.split("/")[2]).resources.begin_delete_by_id(
        deleted, api_version="2025-09-01", polling_interval=0.05).result()
    [transition] = wait_until(lambda: of_kind(host, "ledger.transition"), "the ledger transition line")
    assert transition["workspaceId"].lower() == deleted.lower() and transition["state"] == "SoftDeleted"
    assert transition["eventId"] and transition["logger"] == "aml_lifecycle.transitions"
    [alert] = wait_until(lambda: of_kind(host, "alert.published"), "the soft-delete alert line")
    assert {"alertId", "alertType", "workspaceId"} <= set(alert)

    body = {"workspaceId": ws_id("ws-quiet"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}
    started = requests.post(f"{host.url}/api/moves", json=body, headers={"x-functions-key": host.key}, timeout=60)
    assert started.status_code == 202, started.text
    move_id = started.json()["moveId"]
    [finished] = wait_until(lambda: of_kind(host, "move.finished"), "the move's last line", timeout=60)

    assert finished["moveId"] == move_id and finished["workspaceId"] == ws_id("ws-quiet") and finished["alertId"]
    [begun] = of_kind(host, "move.started")
    assert begun["moveId"] == move_id and begun["targetId"] == body["targetResourceGroupId"]
    states = [r["state"] for r in of_kind(host, "move.state") if r["moveId"] == move_id]
    assert states[0] == "Validating" and states[-1] == finished["state"]
    steps = of_kind(host, "move.step")
    assert steps and all({"moveId", "workspaceId", "step", "status", "state"} <= set(r) for r in steps)
    log = host.logs()
    assert sim_token not in log and topic_key not in log and host.key not in log
