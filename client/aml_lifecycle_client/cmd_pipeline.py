"""`move pipeline`: validate, start and follow a move in a CI job, reporting it the platform's way (used by the
repository's GitHub Action, action.yml, and its Azure Pipelines template, examples/pipelines/azure-pipelines/)."""

from __future__ import annotations

from typing import Any

import click

from aml_lifecycle_client import exits
from aml_lifecycle_client.cmd_moves import body_options, move, validate
from aml_lifecycle_client.context import Run, common
from aml_lifecycle_client.exits import ClientError
from aml_lifecycle_client.follow import Progress, follow_move
from aml_lifecycle_client.pipeline_report import Platform, summary_markdown
from aml_lifecycle_client.workspace import move_body


@move.command("pipeline")
@click.option("--platform", type=click.Choice(["github", "azure"]), required=True,
              help="github: GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, ::error; azure: ##vso logging commands.")
@click.option("--interval", type=click.FloatRange(0.05), default=30.0, show_default=True, metavar="SECONDS")
@click.option("--timeout", type=click.FloatRange(0.01), default=300.0, show_default=True, metavar="MINUTES")
@body_options
@common
def move_pipeline(run: Run, platform: str, interval: float, timeout: float, body_file: str | None,
                  **flags: Any) -> None:
    """Validate (following a 202), start, follow to the end; summary, annotations for failed checks, outputs
    moveId / state / targetWorkspaceId. Exit 1 when not ready or Failed; NeedsAttention warns (exit 0; Azure
    Pipelines: SucceededWithIssues)."""
    ci = Platform(platform)
    body = move_body(body_file, flags)
    workspace = body["workspaceId"]
    report = validate(run, body, wait=True, interval=interval, timeout=timeout)
    for check in report.get("checks") or ():
        if check.get("status") == "failed":
            ci.error(f"check {check.get('id')}", f"{check.get('message')}"
                     + (f" — to fix: {check['remediation']}" if check.get("remediation") else ""))
    if not report.get("ready"):
        arm = (report.get("armValidation") or {}).get("status")
        note = f"the workspace cannot move yet (ARM validation: {arm}); fix the failed checks and run again"
        _close(ci, workspace, report, None, "Not ready", note)
        raise SystemExit(exits.FAILED)

    answer = run.api.call("POST", "/api/moves", body=body, accept=(202, 409, 422))
    started = answer.body or {}
    if answer.status == 422 or (answer.status == 409 and not started.get("moveId")):
        message = (started.get("error") or {}).get("message") or "the move did not start"
        ci.error("move not started", message)
        _close(ci, workspace, started if started.get("checks") else report, None, "Not started", message)
        raise SystemExit(exits.FAILED)
    if answer.status == 409:
        click.echo(f"a move of this workspace is already running: following {started['moveId']}", err=True)

    try:
        view = follow_move(run.api, started["moveId"], timeout=timeout * 60, interval=interval,
                           progress=Progress(interactive=False))
    except ClientError as error:
        ci.error("move still running", error.message)
        _close(ci, workspace, report, {"moveId": started["moveId"], "statusUrl": started.get("statusUrl")},
               "Still running", error.message)
        raise
    state = view.get("state")
    if state == "Succeeded":
        _close(ci, workspace, report, view, "Succeeded", f"moved to {view.get('targetWorkspaceId')}")
        raise SystemExit(exits.OK)
    if state == "NeedsAttention":
        note = f"moved, with {len(view.get('leftToDo') or ())} item(s) left for a person (listed below)"
        _close(ci, workspace, report, view, "Needs attention", note)
        ci.needs_attention(f"move {view.get('moveId')} needs attention: {note}")
        raise SystemExit(exits.OK)
    error = view.get("error") or {}
    message = f"{error.get('code')}: {error.get('message')}"
    ci.error("move failed", message)
    _close(ci, workspace, report, view, "Failed", message)
    raise SystemExit(exits.FAILED)


def _close(ci: Platform, workspace: str, report: dict | None, view: dict | None, outcome: str, note: str) -> None:
    click.echo(f"{outcome}: {note}")
    ci.summary(summary_markdown(workspace, report, view, outcome, note))
    ci.outputs({"moveId": (view or {}).get("moveId"), "state": (view or {}).get("state") or outcome.title().replace(" ", ""),
                "targetWorkspaceId": (view or {}).get("targetWorkspaceId")})
