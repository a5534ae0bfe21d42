"""Durable instance state and history persistence: Azure Table Storage (Azurite) and an in-memory twin for tests."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Iterable, Protocol

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables.aio import TableClient

INSTANCE_ROW, ENGINE_ROW = "instance", "engine"
CHUNK = 30_000  # characters per string property (the service limit is 64 KiB of UTF-16; JSON here is ASCII)
MAX_CHUNKS = 30
TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


@dataclass
class InstanceRecord:
    """The queryable status of one orchestration instance. Input/Output/CustomStatus are JSON text or None."""

    instance_id: str
    name: str
    runtime_status: str
    created_time: datetime
    last_updated_time: datetime
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    parent_instance_id: str | None = None
    execution_id: str = ""
    version: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.runtime_status in TERMINAL


@dataclass
class InstanceData:
    """Everything the engine keeps for one instance: its status, the engine bookkeeping and the history episodes."""

    record: InstanceRecord
    engine: dict
    episodes: list[list[dict]] = field(default_factory=list)

    @property
    def history(self) -> list[dict]:
        return [event for episode in self.episodes for event in episode]


@dataclass
class InstanceQuery:
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: tuple[str, ...] = ()
    prefix: str | None = None

    def matches(self, record: InstanceRecord) -> bool:
        return ((self.created_from is None or record.created_time >= self.created_from)
                and (self.created_to is None or record.created_time <= self.created_to)
                and (not self.statuses or record.runtime_status in self.statuses)
                and (not self.prefix or record.instance_id.startswith(self.prefix)))


class DurableStore(Protocol):
    """What the engine needs from storage. `save` writes the record, the engine row and new episodes atomically."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self, instance_id: str) -> InstanceData | None: ...
    async def get_record(self, instance_id: str) -> InstanceRecord | None: ...
    async def query(self, query: InstanceQuery) -> list[InstanceRecord]: ...
    async def save(self, record: InstanceRecord, engine: dict, new_episodes: list[tuple[int, int, list[dict]]]) -> None: ...
    async def replace(self, data: InstanceData) -> None: ...
    async def delete(self, instance_id: str) -> bool: ...


def table_name_for(hub: str) -> str:
    """A table name for a task hub, distinct from the real Azure Storage provider's `<hub>Instances`/`<hub>History`."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", hub) or "TestHubName"
    if not cleaned[0].isalpha():
        cleaned = "h" + cleaned
    return (cleaned[:56] + "DevHost")


def _key(value: str) -> str:
    """Escape the characters Table Storage forbids in keys."""
    return (value.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
            .replace("#", "%23").replace("?", "%3F"))


def _episode_key(execution: int, episode: int) -> str:
    return f"h-{execution:05d}-{episode:07d}"


def _put_json(entity: dict, value: Any) -> dict:
    text = json.dumps(value, separators=(",", ":"))
    chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    if len(chunks) > MAX_CHUNKS:
        raise ValueError(f"durable state of {len(text)} characters is over the dev host's per-row limit")
    entity["Chunks"] = len(chunks)
    for index, chunk in enumerate(chunks):
        entity[f"D{index:02d}"] = chunk
    return entity


def _get_json(entity: dict) -> Any:
    return json.loads("".join(entity[f"D{i:02d}"] for i in range(int(entity["Chunks"]))))


def _record_entity(record: InstanceRecord) -> dict:
    entity = {"PartitionKey": _key(record.instance_id), "RowKey": INSTANCE_ROW, "InstanceId": record.instance_id,
              "Name": record.name, "RuntimeStatus": record.runtime_status, "CreatedTime": record.created_time,
              "LastUpdatedTime": record.last_updated_time, "ExecutionId": record.execution_id}
    if record.parent_instance_id:
        entity["ParentInstanceId"] = record.parent_instance_id
    if record.version:
        entity["Version"] = record.version
    return _put_json(entity, {"input": record.input, "output": record.output, "customStatus": record.custom_status})


def _record_from(entity: dict) -> InstanceRecord:
    payload = _get_json(entity)
    return InstanceRecord(
        instance_id=entity["InstanceId"], name=entity["Name"], runtime_status=entity["RuntimeStatus"],
        created_time=entity["CreatedTime"], last_updated_time=entity["LastUpdatedTime"],
        input=payload.get("input"), output=payload.get("output"), custom_status=payload.get("customStatus"),
        parent_instance_id=entity.get("ParentInstanceId"), execution_id=entity.get("ExecutionId", ""),
        version=entity.get("Version"))


class TableDurableStore:
    """One table per task hub; one partition per instance holding its status row, engine row and history episodes."""

    def __init__(self, connection_string: str, hub_name: str) -> None:
        self.table_name = table_name_for(hub_name)
        self._client = TableClient.from_connection_string(connection_string, table_name=self.table_name)

    async def open(self) -> None:
        try:
            await self._client.create_table()
        except ResourceExistsError:
            pass

    async def close(self) -> None:
        await self._client.close()

    async def get_record(self, instance_id: str) -> InstanceRecord | None:
        try:
            return _record_from(await self._client.get_entity(_key(instance_id), INSTANCE_ROW))
        except ResourceNotFoundError:
            return None

    async def load(self, instance_id: str) -> InstanceData | None:
        rows = [row async for row in self._client.query_entities(
            "PartitionKey eq @pk", parameters={"pk": _key(instance_id)})]
        by_key = {row["RowKey"]: row for row in rows}
        if INSTANCE_ROW not in by_key or ENGINE_ROW not in by_key:
            return None
        engine = _get_json(by_key[ENGINE_ROW])
        prefix = _episode_key(engine["execution"], 0)[:8]
        episodes = [_get_json(by_key[k]) for k in sorted(by_key) if k.startswith(prefix)]
        return InstanceData(_record_from(by_key[INSTANCE_ROW]), engine, episodes)

    async def query(self, query: InstanceQuery) -> list[InstanceRecord]:
        filters, parameters = ["RowKey eq @rk"], {"rk": INSTANCE_ROW}
        if query.created_from is not None:
            filters.append("CreatedTime ge @cf")
            parameters["cf"] = query.created_from
        if query.created_to is not None:
            filters.append("CreatedTime le @ct")
            parameters["ct"] = query.created_to
        records = [_record_from(row) async for row in self._client.query_entities(
            " and ".join(filters), parameters=parameters)]
        return sorted((r for r in records if query.matches(r)), key=lambda r: (r.created_time, r.instance_id))

    async def save(self, record: InstanceRecord, engine: dict, new_episodes: list[tuple[int, int, list[dict]]]) -> None:
        pk = _key(record.instance_id)
        operations: list[tuple] = [("upsert", _record_entity(record), {"mode": "replace"}),
                                   ("upsert", _put_json({"PartitionKey": pk, "RowKey": ENGINE_ROW}, engine),
                                    {"mode": "replace"})]
        for execution, episode, events in new_episodes:
            row = _put_json({"PartitionKey": pk, "RowKey": _episode_key(execution, episode)}, events)
            operations.append(("upsert", row, {"mode": "replace"}))
        if len(operations) > 100:
            raise ValueError("more than 98 history episodes in one save")
        await self._client.submit_transaction(operations)

    async def replace(self, data: InstanceData) -> None:
        await self.delete(data.record.instance_id)
        execution = data.engine["execution"]
        await self.save(data.record, data.engine,
                        [(execution, i, episode) for i, episode in enumerate(data.episodes)])

    async def delete(self, instance_id: str) -> bool:
        pk = _key(instance_id)
        keys = [row["RowKey"] async for row in self._client.query_entities(
            "PartitionKey eq @pk", parameters={"pk": pk}, select=["RowKey"])]
        for start in range(0, len(keys), 100):
            await self._client.submit_transaction(
                [("delete", {"PartitionKey": pk, "RowKey": k}) for k in keys[start:start + 100]])
        return INSTANCE_ROW in keys

    async def delete_history_before(self, instance_id: str, execution: int) -> None:
        pk = _key(instance_id)
        keep = _episode_key(execution, 0)[:8]
        stale = [row["RowKey"] async for row in self._client.query_entities(
            "PartitionKey eq @pk", parameters={"pk": pk}, select=["RowKey"])
            if row["RowKey"].startswith("h-") and not row["RowKey"].startswith(keep)]
        for start in range(0, len(stale), 100):
            await self._client.submit_transaction(
                [("delete", {"PartitionKey": pk, "RowKey": k}) for k in stale[start:start + 100]])


class MemoryDurableStore:
    """The same contract in memory (no persistence across processes): for fast engine tests."""

    def __init__(self) -> None:
        self._data: dict[str, InstanceData] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def get_record(self, instance_id: str) -> InstanceRecord | None:
        data = self._data.get(instance_id)
        return copy.deepcopy(data.record) if data else None

    async def load(self, instance_id: str) -> InstanceData | None:
        return copy.deepcopy(self._data.get(instance_id))

    async def query(self, query: InstanceQuery) -> list[InstanceRecord]:
        records = [copy.deepcopy(d.record) for d in self._data.values() if query.matches(d.record)]
        return sorted(records, key=lambda r: (r.created_time, r.instance_id))

    async def save(self, record: InstanceRecord, engine: dict, new_episodes: list[tuple[int, int, list[dict]]]) -> None:
        json.dumps(engine), json.dumps([e for _, _, e in new_episodes])  # same serialisability as the table store
        current = self._data.get(record.instance_id)
        episodes = current.episodes if current and current.engine["execution"] == engine["execution"] else []
        for _, index, events in new_episodes:
            while len(episodes) <= index:
                episodes.append([])
            episodes[index] = copy.deepcopy(events)
        self._data[record.instance_id] = InstanceData(copy.deepcopy(record), copy.deepcopy(engine), episodes)

    async def replace(self, data: InstanceData) -> None:
        self._data[data.record.instance_id] = copy.deepcopy(data)

    async def delete(self, instance_id: str) -> bool:
        return self._data.pop(instance_id, None) is not None

    async def delete_history_before(self, instance_id: str, execution: int) -> None:
        return None


def records_as_dicts(records: Iterable[InstanceRecord]) -> list[dict]:
    return [asdict(r) for r in records]
