"""The installed `aml-lifecycle` command end to end against the local stack: each command's table and JSON output,
--query, the documented exit codes, a slow validation followed through 202, and moves followed with --wait."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id

PROD = rg_id(SUB_PROD, "rg-ml-prod")
DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")


def soft_delete(name: str) -> None:
    from shared.azure.clients import get_clients

    get_clients().resources(SUB_DEV).resources.begin_delete_by_id(
        ws_id(name), api_version="2025-09-01", polling_interval=0.05).result()


def until(check, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_help_and_usage_errors_say_what_to_do(aml):
    assert aml("--help").code == 0
    missing = aml("health", env={"AML_LIFECYCLE_ENDPOINT": ""})
    assert missing.code == 2 and "set AML_LIFECYCLE_ENDPOINT" in missing.err
    no_target = aml("move", "validate", "--workspace", ws_id("ws-quiet"))
    assert no_target.code == 2 and "--target is required" in no_target.err
    bad_query = aml("health", "--query", "[?")
    assert bad_query.code == 2 and "JMESPath" in bad_query.err


def test_a_wrong_key_is_an_auth_error_and_an_unreachable_app_exit_5(aml):
    wrong = aml("health", env={"AML_LIFECYCLE_FUNCTION_KEY": "not-the-key"})
    assert wrong.code == 2 and "refused the credential" in wrong.err and "what to do" in wrong.err
    down = aml("health", env={"AML_LIFECYCLE_ENDPOINT": "http://127.0.0.1:9"})
    assert down.code == 5 and "could not reach" in down.err


def test_health_and_coverage(aml):
    table = aml("health")
    assert table.code == 0 and "app: healthy" in table.out and "storage" in table.out
    assert aml("health", "-o", "json", "--query", "status").json() == "healthy"
    coverage = aml("coverage", "-o", "json")
    report = coverage.json()
    assert coverage.code == (1 if report["missing"] or report["unknown"] else 0)
    assert {r["subscriptionId"] for r in report["subscriptions"]} == {SUB_DEV, SUB_PROD}
    tsv = aml("coverage", "-o", "tsv")
    assert all(len(line.split("\t")) == 4 for line in tsv.out.splitlines())


def test_retention_list_and_show(aml):
    soft_delete("ws-batch")
    query = "value[?workspaceName=='ws-batch'].state | [0]"
    until(lambda: aml("retention", "list", "-o", "json", "--query", query).out.strip() == '"SoftDeleted"',
          "the soft-deleted workspace in the ledger")
    table = aml("retention", "list", "--state", "SoftDeleted")
    assert table.code == 0 and "ws-batch" in table.out and "SoftDeleted" in table.out
    rows = aml("retention", "list", "-o", "json").json()["value"]
    purge_dates = [r["purgeAfter"] for r in rows]
    assert purge_dates == sorted(purge_dates) and all(p.endswith("Z") for p in purge_dates)
    tsv = aml("retention", "list", "-o", "tsv", "--query", "value[].[workspaceName, state]")
    assert "ws-batch\tSoftDeleted" in tsv.out.splitlines()
    shown = aml("retention", "show", ws_id("ws-batch"), "-o", "json")
    assert shown.code == 0 and shown.json()["state"] == "SoftDeleted"
    by_parts = aml("retention", "show", f"{SUB_DEV}/rg-ml-dev/ws-batch", "--query", "workspaceName", "-o", "tsv")
    assert by_parts.out.strip() == "ws-batch"
    unknown = aml("retention", "show", f"{SUB_DEV}/rg-ml-dev/ws-nowhere")
    assert unknown.code == 1 and "error:" in unknown.err


def test_validate_table_json_query_and_exit_codes(aml):
    blocked = aml("move", "validate", "--workspace", ws_id("ws-computes"), "--target", PROD)
    assert blocked.code == 1
    assert "ready: no" in blocked.out and "workspace.no-computes" in blocked.out and "failed" in blocked.out
    ready = aml("move", "validate", "--workspace", ws_id("ws-quiet"), "--target", PROD,
                "--recreate-role-assignments", "-o", "json", "--query", "ready")
    assert ready.code == 0 and ready.json() is True
    failed = aml("move", "validate", "--workspace", ws_id("ws-computes"), "--target", PROD, "-o", "json",
                 "--query", "checks[?status=='failed'].id")
    assert failed.code == 1 and "workspace.no-computes" in failed.json()


def test_a_slow_validation_is_followed_through_its_202(aml, sim):
    sim.control("POST", "settings", json={"validationSeconds": 300})
    pending = aml("move", "validate", "--workspace", ws_id("ws-quiet"), "--target", PROD)
    assert pending.code == 4 and "still validating" in pending.err and "/api/moves/validations/" in pending.err

    sim.control("POST", "settings", json={"validationSeconds": 5})  # longer than the app's bound (2 s here)
    followed = aml("move", "validate", "--workspace", ws_id("ws-quiet"), "--target", PROD, "--wait",
                   "--interval", "0.5", "-o", "json")
    assert followed.code == 0, followed.err
    report = followed.json()
    assert report["ready"] is True and report["armValidation"]["status"] == "succeeded"
    assert "waiting for ARM's validateMoveResources" in followed.err  # one progress line, not one per poll
    assert followed.err.count("validateMoveResources") == 1


def test_a_move_followed_to_its_end_then_listed_and_shown(aml):
    moved = aml("move", "start", "--workspace", ws_id("ws-twin"), "--target", DEV2, "--wait", "--interval", "0.3")
    assert moved.code == 0, moved.out + moved.err
    assert ": Succeeded" in moved.out and "move" in moved.out
    progress = [line for line in moved.err.splitlines() if line.strip()]
    assert len(progress) == len(set(progress)) >= 2  # one line per change on a pipe
    listed = aml("move", "list", "-o", "json").json()["value"]
    (row,) = [m for m in listed if m["workspaceId"] == ws_id("ws-twin")]
    assert row["state"] == "Succeeded" and row["statusUrl"].startswith("http")
    ids = aml("move", "list", "--state", "Succeeded", "--workspace", ws_id("ws-twin"), "-o", "tsv",
              "--query", "value[].moveId")
    assert ids.out.split() == [row["moveId"]]
    assert aml("move", "list", "--state", "Failed", "-o", "json").json()["value"] == []
    shown = aml("move", "show", row["moveId"], "-o", "json", "--query", "targetWorkspaceId")
    assert shown.json() == ws_id("ws-twin", rg="rg-ml-dev-2")
    assert aml("move", "show", row["moveId"], "--todo", "-o", "json", "--query", "leftToDo").json() == []
    cancel = aml("move", "cancel", row["moveId"], "--reason", "too late", "--requested-by", "me")
    assert cancel.code == 1 and "nothing to cancel" in cancel.err


def test_a_move_that_needs_attention_exits_3_with_commands_for_what_is_left(aml):
    moved = aml("move", "start", "--workspace", ws_id("ws-private"), "--target", PROD, "--wait", "--interval",
                "0.3", "-o", "json")
    assert moved.code == 3, moved.err
    view = moved.json()
    assert view["state"] == "NeedsAttention" and view["leftToDo"]
    # the approval wait said what it waited for and until when (the status: waitingFor, deadline)
    assert "waiting for 1 re-created private endpoint" in moved.err or "waiting for 2 re-created" in moved.err
    assert "(until 20" in moved.err
    todo = aml("move", "show", view["moveId"], "--todo", "-o", "json", "--query", "leftToDo")
    items = todo.json()
    assert items and all(item["command"] for item in items)
    review = [i for i in items if i["kind"] == "review-private-endpoint"]
    assert review and review[0]["command"].startswith("az rest --method put --url 'https://management.azure.com/")
    table = aml("move", "show", view["moveId"], "--todo")
    assert "az rest" in table.out and "review-private-endpoint" in table.out


def test_on_a_terminal_progress_is_one_live_line_with_the_next_check(credential_env, secrets_of):
    """stderr on a pseudo-terminal: the line is rewritten in place (elapsed, state and step, next check)."""
    import os
    import pty
    import subprocess

    from tests.client.conftest import COMMAND

    leader, follower = pty.openpty()
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
                   **credential_env}
    done = subprocess.run([str(COMMAND), "move", "start", "--workspace", ws_id("ws-twin"), "--target", DEV2,
                           "--wait", "--interval", "0.3", "-o", "json", "--query", "state"],
                          env=environment, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
                          timeout=240)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    terminal = b"".join(chunks).decode(errors="replace")
    assert done.returncode == 0 and done.stdout.decode().strip() == '"Succeeded"'  # stdout stays parseable
    assert "\r\x1b[2K" in terminal and " · next check " in terminal and "m0" in terminal
    assert not any(secret in terminal for secret in secrets_of)
