"""`move show --todo`: each item left for a person with a command that does (or starts) it."""

from __future__ import annotations

import re
import shlex
from typing import Any

ML_API = "2025-09-01"  # the Microsoft.MachineLearningServices api-version the app itself uses
_ROLE = re.compile(r"^(?:\S+) (?P<principal>[0-9a-fA-F-]{36}) had role (?P<role>[0-9a-fA-F-]{36})")


def todo_rows(view: dict[str, Any]) -> list[dict[str, str]]:
    """`[{"kind", "target", "message", "command"}]` for the move's `leftToDo`."""
    return [{**item, "command": command_for(item, view)} for item in view.get("leftToDo") or ()]


def command_for(item: dict[str, Any], view: dict[str, Any]) -> str:
    kind, target = item.get("kind") or "", item.get("target") or ""
    move_id = view.get("moveId") or ""
    workspace = view.get("targetWorkspaceId") or view.get("workspaceId") or ""
    q = shlex.quote
    if kind in ("approve-private-endpoint", "review-private-endpoint") and "/privateEndpointConnections/" in target:
        body = ('{"properties":{"privateLinkServiceConnectionState":{"status":"Approved",'
                f'"description":"Approved after workspace move {move_id}"}}}}')
        return f"az rest --method put --url {q(_arm(target))} --body {q(body)}"
    if kind == "recreate-role-assignment":
        found = _ROLE.match(item.get("message") or "")
        if found:
            return (f"az role assignment create --assignee-object-id {found['principal']} "
                    f"--role {found['role']} --scope {q(target)}")
    if kind == "fix-datastore":
        return (f"aml-lifecycle move show {move_id} -o json --query "
                f"{q(f'leftToDo[?target==`{target}`].redo | [0]')}  # what to register again, then az ml datastore create")
    if kind in ("recreate-compute", "recreate-endpoint"):
        noun = "compute" if kind == "recreate-compute" else "online-endpoint"
        parts = _parts(target)
        return (f"az ml {noun} create --file <{noun}.yml> --workspace-name {q(parts.get('workspaces', ''))} "
                f"--resource-group {q(parts.get('resourceGroups', ''))} --subscription {q(parts.get('subscriptions', ''))}")
    step = target if kind in ("post-move-step-skipped", "post-move-step-failed") else ""
    if step == "private-endpoints" and workspace:
        return f"az rest --method get --url {q(_arm(workspace + '/privateEndpointConnections'))}"
    if step == "role-assignments" and workspace:
        return f"az role assignment list --scope {q(workspace)}"
    if step == "datastores" and workspace:
        parts = _parts(workspace)
        return (f"az ml datastore list --workspace-name {q(parts.get('workspaces', ''))} "
                f"--resource-group {q(parts.get('resourceGroups', ''))} --subscription {q(parts.get('subscriptions', ''))}")
    return f"aml-lifecycle move show {move_id} -o json"


def _arm(resource_id: str) -> str:
    return f"https://management.azure.com{resource_id}?api-version={ML_API}"


def _parts(resource_id: str) -> dict[str, str]:
    segments = [s for s in resource_id.split("/") if s]
    return {segments[i]: segments[i + 1] for i in range(0, len(segments) - 1, 2)}
