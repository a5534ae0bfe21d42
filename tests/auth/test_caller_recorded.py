"""The real caller on the move's records: the signed-in principal, whatever the body says (AML_LIFECYCLE_AUTH=entra)."""

from __future__ import annotations

import time
from typing import Any

from tests.auth.conftest import call
from tests.conftest import SUB_DEV, rg_id, ws_id


def test_a_move_records_alice_and_a_cancel_records_bob_with_the_body_only_as_a_note(entra_host: Any, sim: Any) -> None:
    alice = {"Authorization": f"Bearer {entra_host.token('Moves.Execute', name='alice@contoso.com')}"}
    body = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}
    # ARM keeps validating the move, so the cancel below finds it still Validating.
    sim.control("POST", "faults", json={"path": "/operationresults/", "kind": "throttle", "retryAfter": 120,
                                        "count": 1000})
    started = call("POST", f"{entra_host.url}/api/moves", alice, body)
    assert started.status_code == 202, started.text
    move_id = started.json()["moveId"]
    view = call("GET", f"{entra_host.url}/api/moves/{move_id}", alice).json()
    assert view["requestedBy"]["name"] == "alice@contoso.com" and view["requestedBy"]["via"] == "entra"
    assert view["requestedBy"]["objectId"]

    pipeline = {"Authorization": f"Bearer {entra_host.token('Moves.Execute', name='release-pipeline', app=True)}"}
    deadline = time.monotonic() + 30
    while True:
        cancelled = call("POST", f"{entra_host.url}/api/moves/{move_id}/cancel", pipeline,
                         {"reason": "wrong target", "requestedBy": "mallory@contoso.com"})
        if cancelled.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert cancelled.status_code == 200, cancelled.text
    (step,) = [s for s in cancelled.json()["steps"] if s["name"] == "cancellation"]
    assert step["canceledBy"]["via"] == "entra" and step["canceledBy"]["appId"] and "name" not in step["canceledBy"]
    assert step["requestedByNote"] == "mallory@contoso.com"
    assert "mallory" not in cancelled.json()["error"]["message"]
    assert step["canceledBy"]["appId"] in cancelled.json()["error"]["message"]
