"""`target.name-free`: passed only when the app knows (a live GET plus a ledger that sees the target's deletes)."""

from __future__ import annotations

from datetime import datetime, timezone

from shared.moves.preflight.rules import FAILED, PASSED, WARNING, CheckResult, result, skipped
from shared.moves.snapshot import LedgerEntry, MoveSnapshot
from shared.times import iso_z

CID = "target.name-free"


def target_name_free(s: MoveSnapshot, now: datetime) -> CheckResult:
    """The soft-delete page says a soft-deleted workspace's name cannot be reused until its retention ends or it is
    purged; it does not say whether the name is reserved in the resource group or the whole subscription, and no REST
    operation lists soft-deleted workspaces. So: a live workspace or a ledger row in the target group fails; a row in
    another group of the target subscription, or a target subscription the ledger does not watch, is a warning
    ("unknown") and ARM's validation, whose reasons the report shows, decides."""
    name, target = s.request.workspace.name, s.request.target
    if skip := skipped(CID, s.target_ledger, s.target_workspace_exists):
        return skip
    if s.target_workspace_exists.value:
        return result(CID, FAILED, f"a workspace named {name} already exists in {target.id}")
    holding = [e for e in s.target_ledger.value or () if _holds(e, now)]
    here = [e for e in holding if e.resource_group == target.name.lower()]
    if here:
        return result(CID, FAILED, f"a soft-deleted workspace named {name} in {target.id} holds the name"
                      f"{_until(here[0])}", [_item(name, e) for e in here])
    if holding:
        groups = ", ".join(sorted({e.resource_group for e in holding}))
        return result(CID, WARNING, f"unknown: a soft-deleted workspace named {name} in resource group(s) {groups} of "
                      "the target subscription may hold the name (the docs do not say whether the name is reserved "
                      "per resource group or per subscription); ARM's validation decides",
                      [_item(name, e) for e in holding])
    if not s.ledger_covers_target:
        return result(CID, WARNING, f"unknown: no live workspace named {name} in {target.id}, but the app does not "
                      f"watch subscription {target.subscription_id}'s deletions, so a soft-deleted workspace of that "
                      "name cannot be ruled out; ARM's validation decides",
                      remediation="add the target subscription to the watched subscriptions (docs/subscriptions.md), "
                      "or check the studio's Recently deleted view in the target subscription")
    return result(CID, PASSED, f"no live workspace named {name} in {target.id} and no soft-deleted one in the "
                  "retention ledger, which watches the target subscription")


def _holds(entry: LedgerEntry, now: datetime) -> bool:
    return entry.state == "SoftDeleted" and (entry.purge_after is None or _utc(entry.purge_after) > now)


def _until(entry: LedgerEntry) -> str:
    return f" until {iso_z(_utc(entry.purge_after))}" if entry.purge_after else ""


def _item(name: str, entry: LedgerEntry) -> dict:
    purge_after = iso_z(_utc(entry.purge_after)) if entry.purge_after else None
    return {"workspaceName": name, "resourceGroup": entry.resource_group, "state": entry.state,
            "purgeAfter": purge_after}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
