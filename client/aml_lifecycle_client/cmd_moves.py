"""`move validate|start|show|list|cancel`: a workspace move from the first check to what is left afterwards."""

from __future__ import annotations

from typing import Any, Callable

import click

from aml_lifecycle_client import exits
from aml_lifecycle_client.context import Run, common
from aml_lifecycle_client.exits import ClientError
from aml_lifecycle_client.follow import Progress, follow_move, follow_validation
from aml_lifecycle_client.todo import todo_rows
from aml_lifecycle_client.workspace import move_body

CHECK_COLUMNS = [("check", "id"), ("status", "status"), ("message", "message"), ("to fix", "remediation")]
MOVE_COLUMNS = [("move", "moveId"), ("state", "state"), ("workspace", "workspaceId"),
                ("target group", "targetResourceGroupId"), ("started", "startedAt"), ("finished", "finishedAt"),
                ("left to do", "leftToDo")]
STEP_COLUMNS = [("step", "name"), ("status", "status"), ("waiting for", "waitingFor"),
                ("next check", "nextCheckAt"), ("deadline", "deadline"), ("updated", "updatedAt")]
TODO_COLUMNS = [("kind", "kind"), ("target", "target"), ("what to do", "message"), ("command", "command")]
STATE_EXIT = {"Succeeded": exits.OK, "Failed": exits.FAILED, "NeedsAttention": exits.NEEDS_ATTENTION}


def body_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The move body as flags (each over --body's file): one body serves validate and start."""
    options = [
        click.option("--body", "body_file", metavar="FILE", help="The JSON body (- for stdin); flags override it."),
        click.option("--workspace", "workspaceId", metavar="ID", help="The workspace's ARM id."),
        click.option("--target", "targetResourceGroupId", metavar="ID", help="The target resource group id."),
        click.option("--include", "includeResources", multiple=True, metavar="ID",
                     help="Another resource of the group to move along (repeatable)."),
        click.option("--include-associated/--no-include-associated", "includeAssociated", default=None,
                     help="Move the workspace's storage / key vault / insights / registry along."),
        click.option("--create-target-group/--no-create-target-group", "createTargetResourceGroup", default=None),
        click.option("--quiesce/--no-quiesce", default=None,
                     help="Remove computes / online endpoints first, re-create them after the move."),
        click.option("--cancel-jobs/--no-cancel-jobs", "cancelJobs", default=None, help="With --quiesce."),
        click.option("--approve-private-endpoints", "approvePrivateEndpoints",
                     type=click.Choice(["pre-existing", "none"]), default=None),
        click.option("--fix-datastores/--no-fix-datastores", "fixDatastores", default=None),
        click.option("--recreate-role-assignments/--no-recreate-role-assignments", "recreateRoleAssignments",
                     default=None),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def wait_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--timeout", type=click.FloatRange(0.01), default=300.0, show_default=True,
                           metavar="MINUTES", help="Stop following after this long (exit 4); the work goes on.")(command)
    command = click.option("--interval", type=click.FloatRange(0.05), default=None, metavar="SECONDS",
                           help="Seconds between status reads (default: the app's Retry-After, 15 for a move).")(command)
    return click.option("--wait", is_flag=True, help="Follow to the end, showing progress on stderr.")(command)


@click.group()
def move() -> None:
    """Validate, start, follow and cancel workspace moves."""


@move.command("validate")
@body_options
@wait_options
@common
def move_validate(run: Run, body_file: str | None, wait: bool, interval: float | None, timeout: float,
                  **flags: Any) -> None:
    """Can this workspace move there? Every check, and what to fix. Exit 0 ready, 1 not ready, 4 still running."""
    report = validate(run, move_body(body_file, flags), wait=wait, interval=interval, timeout=timeout)
    _emit_report(run, report)
    if report.get("statusUrl") and report.get("armValidation", {}).get("status") == "running":
        raise ClientError(f"ARM is still validating; follow it with --wait, or read {report['statusUrl']}",
                          exits.STILL_RUNNING)
    raise SystemExit(exits.OK if report.get("ready") else exits.FAILED)


def validate(run: Run, body: dict[str, Any], *, wait: bool, interval: float | None, timeout: float) -> dict:
    answer = run.api.call("POST", "/api/moves/validate", body=body, accept=(200, 202))
    if answer.status == 202 and wait:
        retry = answer.headers.get("Retry-After", "15")
        return follow_validation(run.api, answer.body, int(retry) if retry.isdigit() else 15,
                                 timeout=timeout * 60, interval=interval, progress=Progress())
    return answer.body


@move.command("start")
@body_options
@wait_options
@common
def move_start(run: Run, body_file: str | None, wait: bool, interval: float | None, timeout: float,
               **flags: Any) -> None:
    """Start a move (the app runs the preflight again first). With --wait: follow it to its end; exit 0
    Succeeded, 1 Failed, 3 NeedsAttention."""
    answer = run.api.call("POST", "/api/moves", body=move_body(body_file, flags), accept=(202, 409, 422))
    body = answer.body or {}
    if answer.status == 422:
        _emit_report(run, body)
        raise ClientError(f"the preflight failed: {body.get('error', {}).get('message')}; fix the failed checks "
                          "(`aml-lifecycle move validate …` shows them)", exits.FAILED)
    if answer.status == 409:
        if not body.get("moveId"):
            raise ClientError("a move of this workspace is starting right now; run again in a minute", exits.FAILED)
        if not wait:
            raise ClientError(f"a move of this workspace is already running: {body['moveId']}; follow it with "
                              f"`aml-lifecycle move show {body['moveId']} --wait`", exits.FAILED)
        click.echo(f"a move of this workspace is already running: following {body['moveId']}", err=True)
    if not wait:
        run.emit(body)
        return
    _finish(run, body["moveId"], interval, timeout)


@move.command("show")
@click.argument("move_id")
@click.option("--todo", is_flag=True, help="Only what is left for a person, each with a ready command.")
@wait_options
@common
def move_show(run: Run, move_id: str, todo: bool, wait: bool, interval: float | None, timeout: float) -> None:
    """A move's state, steps (what a waiting step waits for, next check, deadline) and what is left to do."""
    if wait:
        _finish(run, move_id, interval, timeout, todo=todo)
        return
    view = run.api.call("GET", f"/api/moves/{move_id}").body
    _emit_move(run, view, todo=todo)


@move.command("list")
@click.option("--state", type=click.Choice(["Validating", "Moving", "PostMove", "Succeeded", "Failed",
                                            "NeedsAttention"]))
@click.option("--workspace", metavar="ID", help="Only moves of this workspace (its ARM id).")
@click.option("--max-items", type=click.IntRange(1, 10000), default=200, show_default=True)
@common
def move_list(run: Run, state: str | None, workspace: str | None, max_items: int) -> None:
    """Moves, newest first. `--state NeedsAttention`: which moves need me?"""
    rows, token = [], None
    while len(rows) < max_items:
        params = {"state": state, "workspaceId": workspace, "continuationToken": token,
                  "top": min(200, max_items - len(rows))}
        body = run.api.call("GET", "/api/moves", params=params).body or {}
        rows.extend(body.get("value") or [])
        token = body.get("continuationToken")
        if not token:
            break
    run.emit({"value": rows}, MOVE_COLUMNS, rows="value", title="moves")


@move.command("cancel")
@click.argument("move_id")
@click.option("--reason", required=True, help="Why (recorded on the move).")
@click.option("--requested-by", metavar="TEXT",
              help="A note of who asks; the app records the signed-in caller itself (kept as requestedByNote).")
@common
def move_cancel(run: Run, move_id: str, reason: str, requested_by: str | None) -> None:
    """Cancel a move that is Validating or in its post-move work (ARM cannot stop a started move)."""
    body = {"reason": reason, **({"requestedBy": requested_by} if requested_by else {})}
    view = run.api.call("POST", f"/api/moves/{move_id}/cancel", body=body)
    _emit_move(run, view.body, todo=False)
    raise SystemExit(STATE_EXIT.get(view.body.get("state"), exits.OK))


def _finish(run: Run, move_id: str, interval: float | None, timeout: float, *, todo: bool = False) -> None:
    view = follow_move(run.api, move_id, timeout=timeout * 60, interval=interval if interval is not None else 15,
                       progress=Progress())
    _emit_move(run, view, todo=todo)
    raise SystemExit(STATE_EXIT.get(view.get("state"), exits.FAILED))


def _emit_report(run: Run, report: dict[str, Any]) -> None:
    arm = (report.get("armValidation") or {}).get("status")
    title = f"ready: {'yes' if report.get('ready') else 'no'} · ARM validation: {arm}"
    run.emit(report, CHECK_COLUMNS, rows="checks", title=title)


def _emit_move(run: Run, view: dict[str, Any], *, todo: bool) -> None:
    if todo:
        run.emit({**view, "leftToDo": todo_rows(view)}, TODO_COLUMNS, rows="leftToDo",
                 title=f"left to do after {view.get('moveId')}")
        return
    error = view.get("error") or {}
    title = f"{view.get('moveId')}: {view.get('state')}" + (f" · {error.get('code')}: {error.get('message')}"
                                                          if error else "")
    run.emit(view, STEP_COLUMNS, rows="steps", title=title)
    if run.fmt == "table" and not run.query and view.get("leftToDo"):
        run.emit({**view, "leftToDo": todo_rows(view)}, TODO_COLUMNS, rows="leftToDo", title="left to do")
