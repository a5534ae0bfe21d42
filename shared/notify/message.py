"""The readable message of one alert: what happened, to which workspace, until when, what to do, with links.

Input: the alert CloudEvent's type, subject and data as docs/alerts.md documents them. Output: a `Message` that
shared.notify.cards renders for Teams (Adaptive Card) or Slack (Block Kit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from shared.azure import alerts

# The portal's list of ML workspaces; its "Recently deleted" button lists the soft-deleted ones (Microsoft Learn,
# "Workspace soft deletion": recover from the portal's Recently deleted view).
PORTAL_WORKSPACES = "https://portal.azure.com/#browse/Microsoft.MachineLearningServices%2Fworkspaces"
RUNBOOKS = {"retention": "docs/retention.md", "moves": "docs/moves.md", "attention": "docs/needs-attention.md"}


@dataclass(frozen=True)
class Message:
    """Title (one line), summary (a sentence), facts (label, value), what to do (sentences), links (label, URL)."""

    title: str
    summary: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    severity: str = "warning"  # good | warning | attention


def when(value: Any) -> str:
    """An ISO time as `2025-05-15 08:12 UTC`; anything else as given."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def message_for(event_type: str, subject: str, data: dict[str, Any], *, api_url: str = "",
                runbook_url: str = "") -> Message:
    """The message for one alert; an unknown type still reads (its type and subject). `api_url` is the app's base
    URL (https://<host>), `runbook_url` where docs/ is published (else the repository paths are named)."""
    data = data if isinstance(data, dict) else {}
    name = data.get("workspaceName") or subject.rstrip("/").rsplit("/", 1)[-1] or "?"
    where = [("Workspace", str(name)), ("Resource group", str(data.get("resourceGroup") or "?")),
             ("Subscription", str(data.get("subscriptionId") or "?"))]

    def runbook(kind: str) -> tuple[str, str]:
        return ("Runbook", f"{runbook_url.rstrip('/')}/{RUNBOOKS[kind]}" if runbook_url else RUNBOOKS[kind])

    def retention_links() -> list[tuple[str, str]]:
        links = [("Recently deleted (Azure portal)", PORTAL_WORKSPACES)]
        if api_url and data.get("subscriptionId") and data.get("resourceGroup"):
            path = "/".join(quote(str(data[k]), safe="") for k in ("subscriptionId", "resourceGroup", "workspaceName"))
            links.append(("Retention record (API)", f"{api_url.rstrip('/')}/api/retention/{path}"))
        return [*links, runbook("retention")]

    until = when(data.get("purgeAfter")) if data.get("purgeAfter") else "unknown"
    recover = (f"If it should not be gone, recover it before {until}: Azure portal → Azure Machine Learning → "
               f"Recently deleted → {name} → Recover.")
    how = [o.get("how") for o in data.get("recoveryOptions") or [] if isinstance(o, dict) and o.get("how")]
    if event_type == alerts.WORKSPACE_SOFT_DELETED:
        facts = [*where, ("Deleted by", str(data.get("deletedBy") or "unknown")),
                 ("Deleted at", when(data.get("deletedAt"))), ("Recoverable until", until)]
        todo = [recover, *how[:1], f"Until then the name {name} is held: creating a workspace with it in this resource "
                                   "group fails. Nothing to do if the deletion was intended."]
        return Message(f"Workspace {name} was deleted — recoverable until {until}",
                       f"{name} is soft-deleted; it is kept {data.get('retentionDays', 14)} days, then deleted for good.",
                       facts, todo, retention_links())
    if event_type == alerts.RETENTION_EXPIRING_SOON:
        left = f"{data.get('daysLeft', '?')} days {data.get('hoursLeft', 0)} hours"
        return Message(f"Workspace {name} is deleted for good in {left}", f"Its recovery window closes at {until}.",
                       [*where, ("Deleted by", str(data.get("deletedBy") or "unknown")), ("Recoverable until", until)],
                       [recover, *how[:1], "Nothing to do if the deletion was intended."], retention_links(),
                       "attention")
    if event_type == alerts.RETENTION_EXPIRED:
        return Message(f"Workspace {name} can no longer be recovered", str(data.get("message") or
                       f"Its recovery window closed at {until}; the name can be used again."),
                       [*where, ("Window closed", until)], ["Nothing to recover any more. The name is free again."],
                       retention_links(), "good")
    if event_type == alerts.WORKSPACE_NAME_BLOCKED:
        blocked = when(data.get("blockedUntil")) if data.get("blockedUntil") else "unknown"
        return Message(f"Creating workspace {name} failed — most likely its name is held until {blocked}",
                       str(data.get("message") or "A create failed on a name a soft-deleted workspace holds."),
                       [*where, ("Failed caller", str(data.get("failedCaller") or "unknown")),
                        ("Failed at", when(data.get("failedAt"))), ("Held by", str(data.get("heldBy") or "?")),
                        ("Deleted by", str(data.get("deletedBy") or "unknown")), ("Held until", blocked)],
                       [*how[:1], *[str(o.get("how")) for o in data.get("options") or []
                                    if isinstance(o, dict) and o.get("how")][:2],
                        "Check the deployment's own error first: the failure event carries no error text."],
                       retention_links(), "attention")
    if event_type in (alerts.MOVE_SUCCEEDED, alerts.MOVE_FAILED, alerts.MOVE_NEEDS_ATTENTION):
        return _move(event_type, name, subject, data, runbook, api_url)
    if event_type == alerts.RETENTION_DIGEST:
        rows = data.get("rows") or data.get("open") or []
        return Message("Retention digest", f"{len(rows) if isinstance(rows, list) else rows} soft-deleted workspaces "
                       "are within their recovery window.", [], ["Review them in the retention API or the portal."],
                       [("Recently deleted (Azure portal)", PORTAL_WORKSPACES), runbook("retention")], "good")
    return Message(f"{event_type} for {name}", f"An aml-lifecycle alert about {subject}.", where, [], [runbook("retention")])


def _move(event_type: str, name: str, subject: str, data: dict[str, Any], runbook: Any, api_url: str) -> Message:
    facts = [("Workspace", name), ("Move", str(data.get("moveId") or "?")), ("From", str(data.get("workspaceId") or subject))]
    if data.get("targetWorkspaceId"):
        facts.append(("To", str(data["targetWorkspaceId"])))
    status = str(data.get("statusUrl") or "")
    links = [("Move status (API)", f"{api_url.rstrip('/')}{status}" if status.startswith("/") else status)] \
        if status else []
    if event_type == alerts.MOVE_SUCCEEDED:
        return Message(f"Workspace {name} moved", "The move finished; nothing is left to do.", facts, [],
                       [*links, runbook("moves")], "good")
    if event_type == alerts.MOVE_FAILED:
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        return Message(f"Move of workspace {name} failed", str(error.get("message") or "ARM refused the move."),
                       [*facts, ("Error", str(error.get("code") or "?"))],
                       ["Read the move's status for ARM's reasons, fix them, and validate again before a new move."],
                       [*links, runbook("moves")], "attention")
    pending = data.get("leftToDo") or data.get("pending") or []
    listed = ", ".join(str(p.get("kind", p) if isinstance(p, dict) else p) for p in pending) or "see the move status"
    return Message(f"Workspace {name} moved, but people must finish it", f"Left to do: {listed}.", facts,
                   ["Follow the runbook for each item left to do; the move status lists them."],
                   [*links, runbook("attention")], "attention")
