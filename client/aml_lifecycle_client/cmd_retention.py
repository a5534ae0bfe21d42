"""`retention list|show`, `names check`: soft-deleted workspaces, their purge dates, and whether a name is free."""

from __future__ import annotations

import click

from aml_lifecycle_client import exits
from aml_lifecycle_client.api import segment
from aml_lifecycle_client.context import Run, common
from aml_lifecycle_client.workspace import split_workspace

LIST_COLUMNS = [("workspace", "workspaceName"), ("resource group", "resourceGroup"),
                ("subscription", "subscriptionId"), ("state", "state"), ("deleted at", "deletedAt"),
                ("purge after", "purgeAfter"), ("hours left", "hoursLeft"), ("deleted by", "deletedBy")]
NAME_STATES_OK = ("free",)


@click.group()
def retention() -> None:
    """Soft-deleted workspaces and their retention clock."""


@retention.command("list")
@click.option("--subscription", help="Only this subscription id.")
@click.option("--state", help="SoftDeleted, Recovered, Expired, PermanentlyDeleted, ...")
@click.option("--expiring-within", type=click.IntRange(0, 3650), metavar="DAYS",
              help="Only those that purge within DAYS days.")
@click.option("--max-items", type=click.IntRange(1, 100000), default=5000, show_default=True,
              help="Stop after this many rows (pages are followed).")
@common
def retention_list(run: Run, subscription: str | None, state: str | None, expiring_within: int | None,
                   max_items: int) -> None:
    """Which workspaces are soft-deleted, and when do they purge (soonest first)."""
    rows, token = [], None
    while len(rows) < max_items:
        params = {"subscriptionId": subscription, "state": state, "expiringWithinDays": expiring_within,
                  "continuationToken": token}
        body = run.api.call("GET", "/api/retention", params=params).body or {}
        rows.extend(body.get("value") or [])
        token = body.get("continuationToken")
        if not token:
            break
    rows = sorted(rows[:max_items], key=lambda r: (r.get("purgeAfter") or "9999", r.get("workspaceId") or ""))
    run.emit({"value": rows}, LIST_COLUMNS, rows="value", title="retention ledger")


@retention.command("show")
@click.argument("workspace")
@common
def retention_show(run: Run, workspace: str) -> None:
    """One workspace's ledger row and recovery report. WORKSPACE: its ARM id or SUBSCRIPTION/GROUP/NAME."""
    sub, group, name = split_workspace(workspace)
    body = run.api.call("GET", f"/api/retention/{segment(sub)}/{segment(group)}/{segment(name)}").body
    run.emit(body, title=f"retention of {name}")


@click.group()
def names() -> None:
    """Whether a workspace name can be used."""


@names.command("check")
@click.argument("workspace")
@common
def names_check(run: Run, workspace: str) -> None:
    """Can I (re)use this workspace name? WORKSPACE: an ARM id or SUBSCRIPTION/GROUP/NAME.

    Exit 0 when free, 1 when in use / soft-deleted / purge requested, 3 when the app cannot tell."""
    sub, group, name = split_workspace(workspace)
    body = run.api.call("GET", f"/api/names/{segment(sub)}/{segment(group)}/{segment(name)}").body or {}
    run.emit(body, [("status", "status"), ("blocked until", "blockedUntil"), ("deleted by", "deletedBy"),
                    ("deleted at", "deletedAt"), ("options", "options")],
             title=f"name {name}")
    status = body.get("status")
    if status == "unknown":
        raise SystemExit(exits.NEEDS_ATTENTION)
    if status not in NAME_STATES_OK:
        raise SystemExit(exits.FAILED)
