"""Workspace arguments: an ARM id or SUBSCRIPTION/GROUP/NAME, and the move body's options as flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aml_lifecycle_client.exits import USAGE, ClientError

_TYPE = "providers/microsoft.machinelearningservices/workspaces"


def split_workspace(text: str) -> tuple[str, str, str]:
    """(subscription id, resource group, name) from `/subscriptions/S/resourceGroups/G/providers/
    Microsoft.MachineLearningServices/workspaces/N` or `S/G/N`; ClientError(USAGE) otherwise."""
    parts = [p for p in text.strip().split("/") if p]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    lowered = [p.lower() for p in parts]
    if (len(parts) == 8 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups"
            and "/".join(lowered[4:7]) == _TYPE):
        return parts[1], parts[3], parts[7]
    raise ClientError(f"{text!r} is not a workspace: give its ARM id "
                      "(/subscriptions/…/resourceGroups/…/providers/Microsoft.MachineLearningServices/workspaces/…) "
                      "or SUBSCRIPTION/GROUP/NAME", USAGE)


def move_body(body_file: str | None, flags: dict[str, Any]) -> dict[str, Any]:
    """The move / validate body: the JSON file (if any), then each flag given on the command line over it."""
    body: dict[str, Any] = {}
    if body_file:
        try:
            loaded = json.loads(Path(body_file).read_text() if body_file != "-" else __import__("sys").stdin.read())
        except (OSError, ValueError) as exc:
            raise ClientError(f"--body {body_file}: not a readable JSON file ({exc})", USAGE) from None
        if not isinstance(loaded, dict):
            raise ClientError(f"--body {body_file}: must hold a JSON object", USAGE)
        body.update(loaded)
    for name, value in flags.items():
        if value is not None and value != ():
            body[name] = list(value) if isinstance(value, tuple) else value
    for required, flag in (("workspaceId", "--workspace"), ("targetResourceGroupId", "--target")):
        if not body.get(required):
            raise ClientError(f"{flag} is required (or {required} in --body)", USAGE)
    return body
