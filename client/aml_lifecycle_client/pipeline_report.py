"""What a CI run shows of a move: a markdown step summary, annotations for failed checks, outputs, the verdict;
for GitHub Actions (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, ::error) and Azure Pipelines (##vso logging commands)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import click

from aml_lifecycle_client.todo import todo_rows

OUTPUTS = ("moveId", "state", "targetWorkspaceId")


def summary_markdown(workspace: str, report: dict[str, Any] | None, view: dict[str, Any] | None,
                     outcome: str, note: str = "") -> str:
    """The step summary: the outcome first, then the checks as a table, then what is left to do."""
    lines = [f"## aml-lifecycle move of `{workspace.rsplit('/', 1)[-1]}`", "", f"**Outcome: {outcome}**" + (
        f" — {note}" if note else ""), ""]
    if view:
        lines += [f"- move: `{view.get('moveId')}`", f"- target workspace: `{view.get('targetWorkspaceId') or '-'}`",
                  f"- status: {view.get('statusUrl') or ''}", ""]
    if report:
        arm = (report.get("armValidation") or {}).get("status")
        lines += [f"### Checks (ready: {'yes' if report.get('ready') else 'no'}, ARM validation: {arm})", "",
                  "| check | status | message | to fix |", "|---|---|---|---|"]
        for check in report.get("checks") or ():
            lines.append(f"| `{check.get('id')}` | {_icon(check.get('status'))} {check.get('status')} | "
                         f"{_md(check.get('message'))} | {_md(check.get('remediation'))} |")
        lines.append("")
    todo = todo_rows(view) if view else []
    if todo:
        lines += ["### Left to do", "", "| what | target | how |", "|---|---|---|"]
        for item in todo:
            lines.append(f"| {_md(item['message'])} | `{item['target']}` | `{_md(item['command'])}` |")
        lines.append("")
    elif view and view.get("state") == "Succeeded":
        lines += ["Nothing is left to do.", ""]
    return "\n".join(lines)


class Platform:
    """GitHub Actions or Azure Pipelines: where the summary, annotations and outputs go."""

    def __init__(self, name: str) -> None:
        self.name = name

    def error(self, title: str, message: str) -> None:
        if self.name == "github":
            click.echo(f"::error title={_escape_property(title)}::{_escape(message)}")
        else:
            click.echo(f"##vso[task.logissue type=error]{_vso(title + ': ' + message)}")

    def warning(self, message: str) -> None:
        if self.name == "github":
            click.echo(f"::warning title=aml-lifecycle::{_escape(message)}")
        else:
            click.echo(f"##vso[task.logissue type=warning]{_vso(message)}")

    def outputs(self, values: dict[str, Any]) -> None:
        for name in OUTPUTS:
            value = "" if values.get(name) is None else str(values[name])
            if self.name == "github":
                target = os.environ.get("GITHUB_OUTPUT")
                if target:
                    with open(target, "a", encoding="utf-8") as handle:
                        handle.write(f"{name}={value}\n")
            else:
                click.echo(f"##vso[task.setvariable variable={name};isOutput=true]{_vso(value)}")

    def summary(self, markdown: str) -> None:
        if self.name == "github":
            target = os.environ.get("GITHUB_STEP_SUMMARY")
            if target:
                with open(target, "a", encoding="utf-8") as handle:
                    handle.write(markdown + "\n")
            return
        folder = Path(os.environ.get("AGENT_TEMPDIRECTORY") or os.environ.get("TMPDIR") or "/tmp")
        path = folder / f"aml-lifecycle-move-{uuid.uuid4().hex[:8]}.md"
        path.write_text(markdown + "\n", encoding="utf-8")
        click.echo(f"##vso[task.uploadsummary]{path}")

    def needs_attention(self, message: str) -> None:
        self.warning(message)
        if self.name == "azure":
            click.echo(f"##vso[task.complete result=SucceededWithIssues;]{_vso(message)}")


def _icon(status: Any) -> str:
    return {"passed": "✅", "failed": "❌", "warning": "⚠️", "skipped": "⏭️"}.get(str(status), "")


def _md(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _escape(text: str) -> str:  # GitHub workflow command data
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _vso(text: str) -> str:  # Azure Pipelines logging command data (message part)
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")
