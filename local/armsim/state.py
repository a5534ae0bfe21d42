"""In-memory ARM state: subscriptions, groups, resources, soft-deleted workspaces, locks; loaded from a scenario."""
from __future__ import annotations

import copy
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from . import ids, shapes

KNOWN_PROVIDERS = (
    "Microsoft.MachineLearningServices", "Microsoft.Storage", "Microsoft.ContainerRegistry", "Microsoft.KeyVault",
    "Microsoft.Insights", "Microsoft.Notebooks", "Microsoft.ContainerService", "Microsoft.Network",
    "Microsoft.Databricks", "Microsoft.Authorization", "Microsoft.Resources", "Microsoft.EventGrid",
    "Microsoft.OperationalInsights", "Microsoft.ManagedIdentity",
)
DEFAULT_PAGE_SIZES = {"default": 50, "computes": 2, "jobs": 2, "resources": 5, "subscriptions": 50, "descendants": 50}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


class State:
    """Everything the simulator knows. Bodies are stored as returned, plus a private `_sim` key."""

    def __init__(self, scenario: dict | None = None) -> None:
        self.scenario = copy.deepcopy(scenario or {})
        self.load()

    # ---------------------------------------------------------------- loading
    def load(self) -> None:
        sc = self.scenario
        self.tenants: dict[str, dict] = {t["tenantId"].lower(): dict(t) for t in sc.get("tenants", [])}
        self.principals: dict = copy.deepcopy(sc.get("principals") or {})
        # The tenant that issued the simulator's token: the scenario's homeTenantId, else its first tenant.
        self.home_tenant: str = sc.get("homeTenantId") or next(iter(t["tenantId"] for t in sc.get("tenants", [])), "")
        self.retention_days: int = int(sc.get("softDeleteRetentionDays", 14))
        self.page_sizes: dict[str, int] = {**DEFAULT_PAGE_SIZES, **(sc.get("pageSizes") or {})}
        self.subscriptions: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.resources: dict[str, dict] = {}
        self.secrets: dict[str, dict] = {}
        self.role_assignments: dict[str, dict] = {}
        self.soft_deleted: dict[str, dict] = {}
        self.deleted_resources: dict[str, dict] = {}  # soft-deleted Key Vaults, storage accounts, LA workspaces
        self.locks: dict[str, str] = {}
        self.pending_connections: list[dict] = []
        self.move_failures: list[dict] = []
        self.datastore_in_place_change: str = sc.get("datastoreInPlaceChange", "accept")  # or "refuse"
        self.datastore_fields_after_move: str = sc.get("datastoreFieldsAfterMove", "empty")  # or "source"
        self.validation_seconds: float = float(sc.get("validationSeconds", 0))  # a validation's minimum duration
        # Where Azure is silent, variants (README, "Where Azure is silent"): how a held name answers a create, and what a
        # move whose target subscription is in another tenant answers.
        self.held_name_answer: str = sc.get("heldNameAnswer", "sync")  # or "async"
        self.cross_tenant_move: str = sc.get("crossTenantMove", "linkedAuthorization")  # or "tokenTenant"
        self.management_groups: dict[str, dict] = {}
        for sub in sc.get("subscriptions", []):
            self.add_subscription(sub)
        for group in sc.get("managementGroups", []):
            self.add_management_group(group)
        for group in sc.get("resourceGroups", []):
            self.put_group(group["id"], group["location"], group.get("tags"))
        for spec in sc.get("resources", []):
            self.put(shapes.generic(spec))
        for spec in sc.get("roleAssignments", []):
            self.put_role_assignment(shapes.role_assignment(spec["scope"], spec))
        for spec in sc.get("workspaces", []):
            self.add_workspace(spec)
        for spec in sc.get("softDeletedWorkspaces", []):
            self.add_workspace(spec)
            deleted_at = parse_time(spec.get("deletedAt") or shapes.now_iso())
            self.soft_delete(spec["id"], deleted_at, int(spec.get("retentionDays", self.retention_days)))

    def add_subscription(self, spec: dict) -> None:
        not_registered = {p.lower() for p in spec.get("notRegistered", [])}
        providers = {}
        for namespace in KNOWN_PROVIDERS:
            state = "NotRegistered" if namespace.lower() in not_registered else "Registered"
            providers[namespace.lower()] = {"namespace": namespace, "registrationState": state}
        self.subscriptions[spec["subscriptionId"].lower()] = {
            "subscriptionId": spec["subscriptionId"], "displayName": spec.get("displayName", spec["subscriptionId"]),
            "tenantId": spec["tenantId"], "state": spec.get("state", "Enabled"), "providers": providers,
        }

    def add_management_group(self, spec: dict) -> dict:
        """A management group: `{"name", "displayName"?, "parent"?: group name, "subscriptions"?: [ids]}`."""
        name = spec["name"]
        group = self.management_groups.setdefault(name.lower(), {"name": name, "displayName": spec.get("displayName", name),
                                                                 "parent": spec.get("parent"), "subscriptions": []})
        for sub in spec.get("subscriptions", []):
            self.place_subscription(sub, name)
        return group

    def place_subscription(self, subscription_id: str, group: str) -> None:
        """Move a subscription under a management group (a subscription has one parent group)."""
        for other in self.management_groups.values():
            other["subscriptions"] = [s for s in other["subscriptions"] if s.lower() != subscription_id.lower()]
        self.management_groups[group.lower()]["subscriptions"].append(subscription_id.lower())

    def add_workspace(self, spec: dict) -> dict:
        sub = self.subscription(ids.subscription_of(spec["id"]) or "")
        tenant = sub["tenantId"] if sub else ""
        body = shapes.workspace(spec, tenant)
        ws_id, location = body["id"], body["location"]
        body["_sim"] = {"afterMove": copy.deepcopy(spec.get("afterMove") or {})}
        self.put(body)
        for c in spec.get("computes", []):
            self.put(shapes.compute(ws_id, location, c))
        for e in spec.get("onlineEndpoints", []):
            endpoint = shapes.online_endpoint(ws_id, location, e)
            self.put(endpoint)
            for d in e.get("deployments", []):
                self.put(shapes.online_deployment(endpoint["id"], location, d))
        for e in spec.get("batchEndpoints", []):
            self.put(shapes.batch_endpoint(ws_id, location, e))
        for j in spec.get("jobs", []):
            self.put(shapes.job(ws_id, j))
        for d in spec.get("datastores", []):
            datastore, secrets = shapes.datastore(ws_id, d)
            datastore["_sim"] = {"afterMove": copy.deepcopy(d.get("afterMove") or {})}
            self.put(datastore)
            if secrets is not None:
                self.secrets[ids.key(datastore["id"])] = secrets
        for p in spec.get("privateEndpointConnections", []):
            connection = shapes.private_endpoint_connection(ws_id, {**p, "location": location})
            connection["_sim"] = {"afterMove": copy.deepcopy(p.get("afterMove") or {})}
            self.put(connection)
        for r in spec.get("roleAssignments", []):
            self.put_role_assignment(shapes.role_assignment(ws_id, r))
        return body

    # ---------------------------------------------------------------- lookups
    def subscription(self, subscription_id: str) -> dict | None:
        return self.subscriptions.get((subscription_id or "").lower())

    def tenant_of(self, subscription_id: str) -> str | None:
        sub = self.subscription(subscription_id)
        return sub["tenantId"] if sub else None

    def group(self, subscription_id: str, name: str) -> dict | None:
        return self.groups.get(ids.key(ids.rg_id(subscription_id, name)))

    def get(self, resource_id: str) -> dict | None:
        return self.resources.get(ids.key(resource_id))

    def children(self, parent_id: str, child_type: str | None = None) -> list[dict]:
        """Direct children of parent_id; child_type is the last type segment, e.g. 'computes'."""
        prefix = ids.key(parent_id) + "/"
        depth = len(ids.segments(parent_id)) + 2
        found = []
        for k, body in self.resources.items():
            if k.startswith(prefix) and len(ids.segments(k)) == depth:
                if child_type is None or ids.segments(k)[-2] == child_type.lower():
                    found.append(body)
        return sorted(found, key=lambda b: b["name"].lower())

    def descendants(self, parent_id: str) -> list[dict]:
        prefix = ids.key(parent_id) + "/"
        return [b for k, b in self.resources.items() if k.startswith(prefix)]

    def in_group(self, rg_key: str) -> list[dict]:
        """Top-level resources of a resource group."""
        return sorted((b for k, b in self.resources.items() if ids.is_top_level(k) and ids.rg_key_of(k) == rg_key),
                      key=lambda b: b["id"].lower())

    def of_type(self, resource_type: str, *, subscription_id: str | None = None, rg_key: str | None = None) -> list[dict]:
        wanted = resource_type.lower()
        found = []
        for k, body in self.resources.items():
            if (body.get("type") or "").lower() != wanted:
                continue
            if subscription_id and (ids.subscription_of(k) or "").lower() != subscription_id.lower():
                continue
            if rg_key and ids.rg_key_of(k) != rg_key:
                continue
            found.append(body)
        return sorted(found, key=lambda b: b["id"].lower())

    def soft_deleted_named(self, subscription_id: str, name: str) -> dict | None:
        for entry in self.soft_deleted.values():
            ws = entry["workspace"]
            if ids.subscription_of(ws["id"]).lower() == subscription_id.lower() and ws["name"].lower() == name.lower():
                return entry
        return None

    # ---------------------------------------------------------------- writes
    def put(self, body: dict) -> dict:
        self.resources[ids.key(body["id"])] = body
        return body

    def delete_tree(self, resource_id: str) -> list[dict]:
        """Delete a resource with its children and role assignments below it; returns what was removed."""
        removed = [b for k, b in list(self.resources.items()) if ids.is_within(k, resource_id)]
        for body in removed:
            self.resources.pop(ids.key(body["id"]), None)
            self.secrets.pop(ids.key(body["id"]), None)
        for k in [k for k, ra in self.role_assignments.items() if ids.is_within(ra["properties"]["scope"], resource_id)]:
            self.role_assignments.pop(k)
        return removed

    def put_group(self, group_id: str, location: str, tags: dict | None = None, managed_by: str | None = None) -> dict:
        sub, name = ids.resource_group_of(group_id)
        body = {"id": ids.rg_id(sub, name), "name": name, "type": "Microsoft.Resources/resourceGroups",
                "location": location, "properties": {"provisioningState": "Succeeded"}}
        if tags is not None:
            body["tags"] = tags
        if managed_by:
            body["managedBy"] = managed_by
        self.groups[ids.key(body["id"])] = body
        return body

    def put_role_assignment(self, body: dict) -> None:
        self.role_assignments[ids.key(body["id"])] = body

    def soft_delete(self, ws_id: str, deleted_at: datetime, retention_days: int) -> dict:
        """Soft delete: computes, endpoints, active jobs and role assignments are hard-deleted; the rest is kept."""
        workspace = self.resources.pop(ids.key(ws_id))
        kept, secrets = [], {}
        for body in self.descendants(ws_id):
            k = ids.key(body["id"])
            kind = ids.segments(k)[8] if len(ids.segments(k)) > 8 else ""
            keep = kind in ("datastores", "privateendpointconnections") or (
                kind == "jobs" and body["properties"].get("status") in shapes.TERMINAL_JOB_STATES)
            self.resources.pop(k)
            if keep:
                kept.append(body)
                if k in self.secrets:
                    secrets[k] = self.secrets.pop(k)
            else:
                self.secrets.pop(k, None)
        for k in [k for k, ra in self.role_assignments.items() if ids.is_within(ra["properties"]["scope"], ws_id)]:
            self.role_assignments.pop(k)
        workspace["properties"]["provisioningState"] = "SoftDeleted"
        entry = {"workspace": workspace, "children": kept, "secrets": secrets,
                 "deletedAt": deleted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "scheduledPurgeDate": (deleted_at + timedelta(days=retention_days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "retentionDays": retention_days}
        self.soft_deleted[ids.key(ws_id)] = entry
        return entry

    def recover(self, ws_id: str) -> dict:
        entry = self.soft_deleted.pop(ids.key(ws_id))
        workspace = entry["workspace"]
        workspace["properties"]["provisioningState"] = "Succeeded"
        self.put(workspace)
        for body in entry["children"]:
            self.put(body)
        self.secrets.update(entry["secrets"])
        return workspace

    def purge(self, ws_id: str) -> dict | None:
        return self.soft_deleted.pop(ids.key(ws_id), None)

    # ---------------------------------------------------------------- locks and timed effects
    def lock(self, rg_keys: Iterable[str], operation_id: str) -> None:
        for k in rg_keys:
            self.locks[k] = operation_id

    def unlock(self, operation_id: str) -> None:
        for k in [k for k, op in self.locks.items() if op == operation_id]:
            self.locks.pop(k)

    def lock_of(self, resource_id: str) -> str | None:
        k = ids.rg_key_of(resource_id)
        return self.locks.get(k) if k else None

    def tick(self) -> None:
        """Apply effects that became due (private endpoint connections re-created after a move)."""
        now = time.monotonic()
        due = [p for p in self.pending_connections if p["due"] is not None and p["due"] <= now]
        for pending in due:
            self.pending_connections.remove(pending)
            if ids.key(pending["workspaceId"]) in self.resources:
                self.put(pending["body"])

    # ---------------------------------------------------------------- dump
    @staticmethod
    def public(body: dict | None) -> dict | None:
        if body is None:
            return None
        return {k: copy.deepcopy(v) for k, v in body.items() if k != "_sim"}

    def dump(self) -> dict[str, Any]:
        return {
            "subscriptions": list(self.subscriptions.values()),
            "managementGroups": list(self.management_groups.values()),
            "resourceGroups": list(self.groups.values()),
            "resources": [self.public(b) for b in sorted(self.resources.values(), key=lambda b: b["id"].lower())],
            "roleAssignments": list(self.role_assignments.values()),
            "softDeletedWorkspaces": [
                {"id": e["workspace"]["id"], "deletedAt": e["deletedAt"], "scheduledPurgeDate": e["scheduledPurgeDate"],
                 "retentionDays": e["retentionDays"]} for e in self.soft_deleted.values()],
            "deletedResources": [{"id": e["resource"]["id"], "deletedAt": e["deletedAt"]}
                                 for e in self.deleted_resources.values()],
            "locks": dict(self.locks),
            "pendingPrivateEndpointConnections": [
                {"id": p["body"]["id"], "never": p["due"] is None} for p in self.pending_connections],
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.dump(), indent=2, default=str))
