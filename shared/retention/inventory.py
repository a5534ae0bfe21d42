"""Table `WorkspaceInventory`: what a deletion needs and its event does not carry (location, CMK, dependencies)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared import logs
from shared.azure.arm_ids import parse_workspace_id
from shared.azure.ml_gateway import MlGateway, Workspace
from shared.azure.table_batch import read_many
from shared.azure.workspace_kind import WorkspaceKind
from shared.errors import describe_azure_error
from shared.retention.events import WorkspaceEvent
from shared.retention.ledger import LedgerConflictError, ledger_key, utc
from shared.retention.rules import MAX_HISTORY, REORDER_WINDOW

log = logging.getLogger("aml_lifecycle.inventory")
DEPENDENCY_ROLES = ("keyVault", "storageAccount", "applicationInsights", "containerRegistry")


@dataclass(frozen=True)
class InventoryRow:
    subscription_id: str
    resource_group: str
    workspace_name: str
    workspace_id: str
    location: str | None = None
    cmk_enabled: bool | None = None
    managed_resource_group: str | None = None
    dependencies: dict[str, str] = field(default_factory=dict)
    read_at: datetime | None = None
    read_error: str | None = None
    last_write_time: datetime | None = None
    last_write_event_id: str | None = None
    recent_writes: tuple[tuple[datetime, str], ...] = ()  # (time, event id) within the reorder window
    internal_id: str | None = None  # properties.workspaceId: tells a recovery from a re-used name
    internal_ids: tuple[tuple[str, datetime], ...] = ()  # (internal id, first read) newest last: who held the name
    moved_to: str | None = None  # set on the old row when a move succeeded: the workspace's new ARM id
    identity_type: str | None = None  # ARM `identity.type`, e.g. "SystemAssigned", "UserAssigned"
    retention_days: int | None = None  # `properties.softDeleteRetentionInDays` when ARM returns it
    kind: str | None = None  # ARM `kind` (Default, Hub, Project, FeatureStore); None: never read
    hub_resource_id: str | None = None  # a project's `properties.hubResourceId`
    projects: tuple[str, ...] = ()  # a hub's `properties.associatedWorkspaces`
    isolation_mode: str | None = None  # `properties.managedNetwork.isolationMode`
    etag: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return ledger_key(self.subscription_id, self.resource_group, self.workspace_name)

    def with_workspace(self, workspace: Workspace, read_at: datetime) -> "InventoryRow":
        raw = workspace.raw or {}
        identity = (raw.get("identity") or {}).get("type") if isinstance(raw.get("identity"), dict) else None
        days = (raw.get("properties") or {}).get("softDeleteRetentionInDays")
        linked = WorkspaceKind.of(raw)
        return replace(self, kind=linked.kind, hub_resource_id=linked.hub_resource_id,
                       projects=linked.associated_workspaces, isolation_mode=linked.isolation_mode, workspace_id=workspace.id, location=workspace.location, cmk_enabled=workspace.cmk_enabled,
                       managed_resource_group=workspace.managed_resource_group,
                       dependencies=dict(workspace.dependency_ids), read_at=read_at, read_error=None,
                       internal_id=workspace.internal_id or self.internal_id, moved_to=None,
                       internal_ids=_held(self.internal_ids, workspace.internal_id, read_at),
                       identity_type=identity if isinstance(identity, str) else None,
                       retention_days=days if isinstance(days, int) and not isinstance(days, bool) else None)

    def internal_id_at(self, at: datetime) -> str | None:
        """The internal id of the workspace that held the name at `at` (the newest one read by then), if known."""
        held = [i for i, seen in self.internal_ids if seen <= at]
        return held[-1] if held else None

    def to_entity(self) -> dict[str, Any]:
        pk, rk = self.key
        entity = {
            "PartitionKey": pk, "RowKey": rk, "WorkspaceId": self.workspace_id, "Location": self.location,
            "CmkEnabled": self.cmk_enabled, "ManagedResourceGroup": self.managed_resource_group,
            "KeyVault": self.dependencies.get("keyVault"), "StorageAccount": self.dependencies.get("storageAccount"),
            "ApplicationInsights": self.dependencies.get("applicationInsights"),
            "ContainerRegistry": self.dependencies.get("containerRegistry"),
            "ReadAt": self.read_at, "ReadError": self.read_error,
            "LastWriteTime": self.last_write_time, "LastWriteEventId": self.last_write_event_id,
            "RecentWrites": (json.dumps([[t.isoformat(), i] for t, i in self.recent_writes])
                             if self.recent_writes else None),
            "InternalWorkspaceId": self.internal_id, "MovedTo": self.moved_to,
            "InternalIds": (json.dumps([[i, t.isoformat()] for i, t in self.internal_ids])
                            if self.internal_ids else None),
            "IdentityType": self.identity_type, "SoftDeleteRetentionDays": self.retention_days,
            "Kind": self.kind, "HubResourceId": self.hub_resource_id,
            "HubKey": self.hub_resource_id.rstrip("/").lower() if self.hub_resource_id else None,  # queried by projects_of
            "Projects": json.dumps(list(self.projects)) if self.projects else None,
            "ManagedNetworkIsolationMode": self.isolation_mode,
        }
        return {k: v for k, v in entity.items() if v is not None}

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> "InventoryRow":
        group, _, name = entity["RowKey"].partition("|")
        names = {"keyVault": "KeyVault", "storageAccount": "StorageAccount",
                 "applicationInsights": "ApplicationInsights", "containerRegistry": "ContainerRegistry"}
        return cls(
            subscription_id=entity["PartitionKey"], resource_group=group, workspace_name=name,
            workspace_id=entity.get("WorkspaceId") or "", location=entity.get("Location"),
            cmk_enabled=entity.get("CmkEnabled"), managed_resource_group=entity.get("ManagedResourceGroup"),
            dependencies={role: entity[prop] for role, prop in names.items() if entity.get(prop)},
            read_at=utc(entity.get("ReadAt")), read_error=entity.get("ReadError"),
            last_write_time=utc(entity.get("LastWriteTime")), last_write_event_id=entity.get("LastWriteEventId"),
            recent_writes=tuple((datetime.fromisoformat(t), i)
                                for t, i in json.loads(entity.get("RecentWrites") or "[]")),
            internal_id=entity.get("InternalWorkspaceId"), moved_to=entity.get("MovedTo"),
            internal_ids=tuple((i, datetime.fromisoformat(t)) for i, t in json.loads(entity.get("InternalIds") or "[]")),
            identity_type=entity.get("IdentityType"), retention_days=entity.get("SoftDeleteRetentionDays"),
            kind=entity.get("Kind"), hub_resource_id=entity.get("HubResourceId"),
            projects=tuple(json.loads(entity.get("Projects") or "[]")),
            isolation_mode=entity.get("ManagedNetworkIsolationMode"),
            etag=getattr(entity, "metadata", {}).get("etag"),
        )


def _held(history: tuple[tuple[str, datetime], ...], internal_id: str | None,
          read_at: datetime) -> tuple[tuple[str, datetime], ...]:
    """Append a newly seen internal id (a new workspace under the name); keep the last five."""
    if not internal_id or (history and history[-1][0] == internal_id):
        return history
    return (*history, (internal_id, read_at))[-5:]


class Inventory:
    def __init__(self, table_client: TableClient) -> None:
        self._table = table_client

    def get(self, subscription_id: str, resource_group: str, workspace_name: str) -> InventoryRow | None:
        try:
            entity = self._table.get_entity(*ledger_key(subscription_id, resource_group, workspace_name))
            return InventoryRow.from_entity(entity)
        except ResourceNotFoundError:
            return None

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], InventoryRow]:
        """{ledger key: row} of the keys recorded: one query per partition and 14 rows (shared/azure/table_batch.py)."""
        return {key: InventoryRow.from_entity(e) for key, e in read_many(self._table, keys).items()}

    def in_group(self, subscription_id: str, resource_group: str) -> list[InventoryRow]:
        """Every workspace recorded in one resource group (one partition range query)."""
        low = f"{resource_group.lower()}|"
        entities = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            parameters={"pk": subscription_id.lower(), "low": low, "high": low[:-1] + "}"})  # "}" sorts after "|"
        return [InventoryRow.from_entity(e) for e in entities]

    def projects_of(self, hub_id: str) -> list[InventoryRow]:
        """Every recorded workspace whose `hubResourceId` names this hub (the hub's subscription only: one partition)."""
        from shared.azure.arm_ids import ResourceId

        subscription = ResourceId.parse(hub_id).subscription_id.lower()
        entities = self._table.query_entities("PartitionKey eq @pk and HubKey eq @hub",
                                              parameters={"pk": subscription, "hub": hub_id.rstrip("/").lower()})
        return [InventoryRow.from_entity(e) for e in entities]

    def record_write(self, event: WorkspaceEvent, gateway: MlGateway, *, now: datetime) -> InventoryRow:
        """Note the write (its time orders later deletes) and read the workspace once through ARM.

        An ARM failure keeps what was known before and says so in ReadError; a storage failure raises.
        """
        current = self.get(event.subscription_id, event.resource_group, event.workspace_name)
        if current is not None and any(i == event.event_id for _, i in current.recent_writes):
            return current  # redelivered
        newest = current is None or current.last_write_time is None or event.event_time > current.last_write_time
        workspace, error = None, None
        if newest:  # an older write's read would be no fresher than the one already recorded
            try:
                workspace = gateway.get_workspace(event.workspace)
            except Exception as exc:  # any ARM failure: record what we can
                error = describe_azure_error(exc)
                log.warning("inventory: reading %s after event %s failed: %s",
                            event.workspace_id, event.event_id, error,
                            extra=logs.fields(workspace_id=event.workspace_id, event_id=event.event_id))

        def change(row: InventoryRow | None) -> InventoryRow | None:
            if row is not None and any(i == event.event_id for _, i in row.recent_writes):
                return None
            base = row or InventoryRow(event.subscription_id.lower(), event.resource_group.lower(),
                                       event.workspace_name.lower(), event.workspace_id)
            writes = sorted({*base.recent_writes, (event.event_time, event.event_id)})
            writes = tuple(w for w in writes if w[0] >= writes[-1][0] - REORDER_WINDOW)[-MAX_HISTORY:]
            base = replace(base, recent_writes=writes)
            if row is not None and row.last_write_time is not None and row.last_write_time >= event.event_time:
                return base
            base = replace(base, last_write_time=event.event_time, last_write_event_id=event.event_id)
            return base.with_workspace(workspace, now) if workspace else replace(base, read_error=error, read_at=now)

        return self._update(event.subscription_id, event.resource_group, event.workspace_name, change)

    def record_workspace(self, workspace: Workspace, *, now: datetime) -> InventoryRow:
        """Backfill: the workspace as listed now; keeps the recorded last write."""
        parsed = parse_workspace_id(workspace.id)

        def change(row: InventoryRow | None) -> InventoryRow:
            base = row or InventoryRow(parsed.subscription_id.lower(), parsed.resource_group.lower(),
                                       parsed.name.lower(), workspace.id)
            return base.with_workspace(workspace, now)

        return self._update(parsed.subscription_id, parsed.resource_group, parsed.name, change)

    def follow_move(self, old_id: str, workspace: Workspace, *, now: datetime) -> InventoryRow:
        """A move succeeded: write the row of the new id (facts of the old row, refreshed by `workspace`, the
        workspace read at its new id) and close the old row (`MovedTo`), so a later delete of the moved workspace
        finds its dependencies and internal id. Storage failures raise; running it twice changes nothing."""
        old = parse_workspace_id(old_id)
        previous = self.get(old.subscription_id, old.resource_group, old.name)
        new = parse_workspace_id(workspace.id)

        def write_new(row: InventoryRow | None) -> InventoryRow:
            base = row or (replace(previous, subscription_id=new.subscription_id.lower(),
                                   resource_group=new.resource_group.lower(), workspace_name=new.name.lower(),
                                   etag=None, moved_to=None)
                           if previous is not None else
                           InventoryRow(new.subscription_id.lower(), new.resource_group.lower(), new.name.lower(),
                                        workspace.id))
            return base.with_workspace(workspace, now)

        written = self._update(new.subscription_id, new.resource_group, new.name, write_new)
        if previous is not None and (old.subscription_id.lower(), old.resource_group.lower()) != (
                new.subscription_id.lower(), new.resource_group.lower()):
            self._update(old.subscription_id, old.resource_group, old.name,
                         lambda row: None if row is None else replace(row, moved_to=workspace.id))
        return written

    def _update(self, sub: str, group: str, name: str, change) -> InventoryRow:
        for _ in range(12):
            current = self.get(sub, group, name)
            new = change(current)
            if new is None or new == current:
                return current
            try:
                if current is None:
                    metadata = self._table.create_entity(new.to_entity())
                else:
                    metadata = self._table.update_entity(new.to_entity(), mode=UpdateMode.REPLACE, etag=current.etag,
                                                         match_condition=MatchConditions.IfNotModified)
                return replace(new, etag=metadata.get("etag"))
            except (ResourceExistsError, ResourceModifiedError):
                continue
        raise LedgerConflictError(f"inventory row of {group}/{name} kept changing")
