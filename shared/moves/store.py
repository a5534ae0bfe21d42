"""The WorkspaceMoves table: one row per move (request, state, step history, snapshot, result), ETag-safe updates."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared import logs
from shared.azure import tables
from shared.moves.plan import TERMINAL_STATES
from shared.times import iso_z as iso  # the moves' times, ISO 8601 Z (also imported from here)

# A string property holds at most 64 KiB (32k UTF-16 characters); longer JSON is split over Name, Name1, Name2...
_CHUNK = 30_000
_MAX_CHUNKS = 20
_JSON_PROPERTIES = ("Request", "Steps", "Snapshot", "Result", "Error")
_UPDATE_ATTEMPTS = 8
FINISHED_STEP = ("succeeded", "failed", "skipped", "incomplete")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class MoveRecord:
    """One move as stored; `operation` (the ARM operation URL being polled) is internal and never shown."""

    move_id: str
    instance_id: str
    partition: str  # source subscription id, lower case
    workspace_id: str
    target_resource_group_id: str
    state: str
    request: dict[str, Any]
    started_at: datetime
    updated_at: datetime
    steps: list[dict[str, Any]] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    finished_at: datetime | None = None
    operation: str | None = None
    alert_id: str | None = None
    requested_by: dict[str, Any] | None = None  # the signed-in caller who started it (shared.auth.Caller.record)
    etag: str | None = field(default=None, compare=False)

    @property
    def is_finished(self) -> bool:
        return self.state in TERMINAL_STATES

    def step(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.steps if s["name"] == name), None)

    def put_step(self, name: str, status: str, *, at: datetime | None = None, **details: Any) -> dict[str, Any]:
        """Insert or update a step by name, so a replayed or retried activity never adds a second entry."""
        at = at or utcnow()
        step = self.step(name)
        if step is None:
            step = {"name": name, "status": status, "startedAt": iso(at)}
            self.steps.append(step)
        step["status"] = status
        step["updatedAt"] = iso(at)
        if status in FINISHED_STEP:
            step.setdefault("finishedAt", iso(at))
        else:
            step.pop("finishedAt", None)
        step.update({k: v for k, v in details.items() if v is not None})
        return step

    def to_entity(self) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": self.partition,
            "RowKey": self.move_id,
            "MoveId": self.move_id,
            "InstanceId": self.instance_id,
            "WorkspaceId": self.workspace_id,
            "TargetResourceGroupId": self.target_resource_group_id,
            "State": self.state,
            "StartedAt": self.started_at,
            "UpdatedAt": self.updated_at,
        }
        if self.finished_at is not None:
            entity["FinishedAt"] = self.finished_at
        if self.operation:
            entity["Operation"] = self.operation
        if self.alert_id:
            entity["AlertId"] = self.alert_id
        if self.requested_by:
            entity["RequestedBy"] = json.dumps(self.requested_by)
        for name, value in zip(_JSON_PROPERTIES, (self.request, self.steps, self.snapshot, self.result, self.error)):
            if value is not None:
                _put_json(entity, name, value)
        return entity

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> "MoveRecord":
        metadata = getattr(entity, "metadata", None) or {}
        return cls(
            move_id=entity["RowKey"],
            instance_id=entity.get("InstanceId") or "",
            partition=entity["PartitionKey"],
            workspace_id=entity.get("WorkspaceId") or "",
            target_resource_group_id=entity.get("TargetResourceGroupId") or "",
            state=entity.get("State") or "",
            request=_get_json(entity, "Request") or {},
            started_at=_as_utc(entity.get("StartedAt")),
            updated_at=_as_utc(entity.get("UpdatedAt")),
            steps=_get_json(entity, "Steps") or [],
            snapshot=_get_json(entity, "Snapshot"),
            result=_get_json(entity, "Result"),
            error=_get_json(entity, "Error"),
            finished_at=_as_utc(entity["FinishedAt"]) if entity.get("FinishedAt") else None,
            operation=entity.get("Operation"),
            alert_id=entity.get("AlertId"),
            requested_by=json.loads(entity["RequestedBy"]) if entity.get("RequestedBy") else None,
            etag=metadata.get("etag"),
        )


class MovesStore:
    """Reads and writes WorkspaceMoves rows."""

    def __init__(self, client: TableClient) -> None:
        self._client = client

    @classmethod
    def of(cls, clients: Any) -> "MovesStore":
        """From a :class:`shared.azure.clients.AzureClients`."""
        return cls(tables.table(clients.tables(), tables.MOVES))

    def create(self, record: MoveRecord) -> None:
        """Insert a new row; ResourceExistsError if that move id is taken."""
        self._client.create_entity(record.to_entity())
        logs.move_changes(logs.move_snapshot(None), record)

    def get(self, move_id: str, *, partition: str | None = None) -> MoveRecord | None:
        if partition is not None:
            try:
                return MoveRecord.from_entity(self._client.get_entity(partition.lower(), move_id))
            except ResourceNotFoundError:
                return None
        # The move id alone does not carry the partition; move ids are validated before they reach a filter.
        found = list(self._client.query_entities("RowKey eq @id", parameters={"id": move_id}))
        return MoveRecord.from_entity(found[0]) if found else None

    def update(self, partition: str, move_id: str, change: Callable[[MoveRecord], None]) -> MoveRecord:
        """Read, apply `change`, write back under the row's ETag; retried when another writer got in between."""
        for attempt in range(_UPDATE_ATTEMPTS):
            record = self.get(move_id, partition=partition)
            if record is None:
                raise LookupError(f"no WorkspaceMoves row for move {move_id}")
            before = logs.move_snapshot(record)
            change(record)
            record.updated_at = utcnow()
            try:
                self._client.update_entity(
                    record.to_entity(),
                    mode=UpdateMode.REPLACE,
                    etag=record.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
                logs.move_changes(before, record)
                return record
            except ResourceModifiedError:
                time.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"WorkspaceMoves row {move_id} kept changing; gave up after {_UPDATE_ATTEMPTS} attempts")


def _put_json(entity: dict[str, Any], name: str, value: Any) -> None:
    text = json.dumps(value, separators=(",", ":"), default=str)
    chunks = [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)] or [""]
    if len(chunks) > _MAX_CHUNKS:
        raise ValueError(f"{name} is {len(text)} characters; a WorkspaceMoves row holds at most {_CHUNK * _MAX_CHUNKS}")
    entity[name] = chunks[0]
    for index, chunk in enumerate(chunks[1:], start=1):
        entity[f"{name}{index}"] = chunk


def _get_json(entity: dict[str, Any], name: str) -> Any:
    if not entity.get(name):
        return None
    parts = [entity[name]]
    index = 1
    while entity.get(f"{name}{index}"):
        parts.append(entity[f"{name}{index}"])
        index += 1
    return json.loads("".join(parts))


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return utcnow()
