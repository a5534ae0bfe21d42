"""Structured log fields: what each line about a workspace, event, move or alert carries, and never a secret."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from shared import logs
from shared.logs import of_record
from tests.conftest import log_text, ws_id


def lines(caplog, kind: str) -> list[dict[str, str]]:
    return [of_record(r) for r in caplog.records if getattr(r, "kind", None) == kind]


def test_fields_are_camel_case_dimensions_without_empty_values():
    from shared.retention.ledger import LedgerState

    assert logs.fields(workspace_id="/subscriptions/s", event_id=None, state=LedgerState.SOFT_DELETED) == {
        "workspaceId": "/subscriptions/s", "state": "SoftDeleted"}


def test_an_unknown_field_is_refused_so_a_typo_cannot_drop_it():
    with pytest.raises(TypeError, match="workspaceid"):
        logs.fields(workspaceid="x")


def test_a_soft_delete_logs_its_transition_and_alert_with_ids_and_no_secret(
    functions, app_env, sim, topic_key, sim_token, caplog, monkeypatch
):
    from tests.retention.conftest import delivered, event_body, recent

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle)
    caplog.set_level(logging.DEBUG)
    deleted_at = recent()
    functions["workspace_events"].get_user_function()(delivered(
        event_body("delete", "ws-logged", at=deleted_at, event_id="evt-logged-1")))

    workspace = ws_id("ws-logged").lower()
    [transition] = lines(caplog, "ledger.transition")
    assert transition["workspaceId"].lower() == workspace
    assert (transition["eventId"], transition["state"]) == ("evt-logged-1", "SoftDeleted")
    assert "previousState" not in transition  # a new row
    # 14 days after the delete: the workbook's days left
    assert transition["purgeAfter"].startswith((deleted_at + timedelta(days=14)).isoformat()[:16])
    [alert] = lines(caplog, "alert.published")
    assert alert["workspaceId"].lower() == workspace and alert["alertId"]
    assert alert["alertType"] == "AmlLifecycle.Workspace.SoftDeleted"
    written = log_text(caplog)
    assert topic_key not in written and sim_token not in written


def test_the_same_event_again_logs_no_second_transition(functions, app_env, sim, caplog, monkeypatch):
    from tests.retention.conftest import delivered, event_body, recent

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle)
    caplog.set_level(logging.INFO)
    body = event_body("delete", "ws-twice", at=recent(), event_id="evt-twice")
    handler = functions["workspace_events"].get_user_function()
    handler(delivered(body))
    handler(delivered(json.loads(json.dumps(body))))
    assert len(lines(caplog, "ledger.transition")) == 1


def test_a_move_logs_one_line_per_step_change_and_state_change(run_move, sim, topic_key, sim_token, caplog):
    from tests.moves.conftest import make_plan

    caplog.set_level(logging.INFO)
    plan = make_plan("ws-quiet")
    run_move(plan)

    steps = lines(caplog, "move.step")
    states = [line["state"] for line in lines(caplog, "move.state")]
    assert states[0] == "Validating" and states[-1] in ("Succeeded", "NeedsAttention", "Failed")
    assert len(states) == len(set(states))  # one line per change, not per write
    assert all(line["moveId"] == plan.move_id and line["workspaceId"] == ws_id("ws-quiet") for line in steps)
    seen = [(line["step"], line["status"]) for line in steps]
    assert len(seen) == len(set(seen)) and ("report", "succeeded") in seen
    [finished] = lines(caplog, "move.finished")
    assert finished["state"] == states[-1] and finished["alertId"]
    [alert] = [a for a in lines(caplog, "alert.published") if a.get("moveId") == plan.move_id]
    assert alert["state"] == states[-1] and alert["alertId"] == finished["alertId"]
    written = log_text(caplog)
    assert topic_key not in written and sim_token not in written
