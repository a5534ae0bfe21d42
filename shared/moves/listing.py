"""`GET /api/moves`: the moves newest first, filtered by state and workspace, in pages with an opaque token."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Mapping

from shared.azure.arm_ids import ArmIdError, parse_workspace_id
from shared.errors import bad_request
from shared.moves.plan import STATES, is_move_id
from shared.moves.preflight.validation_admission import PARTITION as VALIDATIONS
from shared.moves.report import view_head
from shared.moves.store import MoveRecord, iso

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_KNOWN = ("state", "workspaceId", "top", "continuationToken", "code")


@dataclass(frozen=True)
class MoveListQuery:
    state: str | None = None
    workspace_id: str | None = None  # lower case
    partition: str | None = None  # the workspace's subscription, lower case
    top: int = DEFAULT_PAGE_SIZE
    after: tuple[str, str] | None = None  # (startedAt ISO, moveId) of the last item of the previous page

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "MoveListQuery":
        """Query parameters `state` (one of the move states), `workspaceId` (an ML workspace id), `top` (1..200,
        default 50), `continuationToken` (from the previous page); ApiError(400) naming the parameter."""
        for name in params:
            if name not in _KNOWN:
                raise bad_request(name, f"unknown query parameter; accepted: {', '.join(_KNOWN[:-1])}")
        state = params.get("state") or None
        if state is not None and state not in STATES:
            raise bad_request("state", f"must be one of {', '.join(STATES)}, got {state!r}")
        workspace = partition = None
        if params.get("workspaceId"):
            try:
                parsed = parse_workspace_id(params["workspaceId"])
            except ArmIdError as exc:
                raise bad_request("workspaceId", f"is not an Azure ML workspace id: {exc}") from None
            workspace, partition = parsed.id.lower(), parsed.subscription_id.lower()
        top = DEFAULT_PAGE_SIZE
        if params.get("top"):
            raw = params["top"]
            if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
                raise bad_request("top", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
            top = int(raw)
        token = params.get("continuationToken") or None
        return cls(state, workspace, partition, top, _decode(token) if token else None)


def list_moves(client: Any, query: MoveListQuery, base_url: str) -> dict[str, Any]:
    """`{"value": [summary...], "continuationToken"?}`, newest first (by start time, then move id).

    `client` is the WorkspaceMoves TableClient. Moves are few (one per workspace move), so a page is cut from the
    filtered set read in full; the token is the last item's position, so a page never repeats or skips a move.
    """
    clauses, parameters = [], {}
    if query.partition:
        clauses.append("PartitionKey eq @p")
        parameters["p"] = query.partition
    if query.state:
        clauses.append("State eq @s")
        parameters["s"] = query.state
    entities = (client.query_entities(" and ".join(clauses), parameters=parameters) if clauses
                else client.list_entities())
    # the table also holds the workspaces' start claims (`claim-…`) and running validations (partition
    # `validations`): only move rows are moves
    records = [MoveRecord.from_entity(e) for e in entities
               if is_move_id(e.get("RowKey", "")) and e.get("PartitionKey") != VALIDATIONS]
    if query.workspace_id:
        records = [r for r in records if r.workspace_id.lower() == query.workspace_id]
    records.sort(key=lambda r: (iso(r.started_at) or "", r.move_id), reverse=True)
    if query.after:
        records = [r for r in records if (iso(r.started_at) or "", r.move_id) < query.after]
    page = records[: query.top]
    body: dict[str, Any] = {"value": [summary(r, base_url) for r in page]}
    if len(records) > query.top:
        last = page[-1]
        body["continuationToken"] = _encode((iso(last.started_at) or "", last.move_id))
    return body


def summary(record: MoveRecord, base_url: str) -> dict[str, Any]:
    """One move in a list: where it stands and where to read the rest (`statusUrl`, absolute)."""
    return {
        **view_head(record),
        "leftToDo": len((record.result or {}).get("leftToDo") or ()),  # a count here; the status view lists them
        "errorCode": (record.error or {}).get("code"),
        "statusUrl": f"{base_url}/api/moves/{record.move_id}",
    }


def _encode(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        started, move_id = json.loads(raw)
        if not isinstance(started, str) or not isinstance(move_id, str) or not is_move_id(move_id):
            raise ValueError
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise bad_request("continuationToken", "is not a token from a previous page; start again without it") from None
    return started, move_id
