"""A workspace's kind and its links (hub, projects, managed network), as Workspaces_Get 2025-09-01 returns them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Workspace.kind is a free string in the 2025-09-01 spec (workspaceRP.json, definitions/Workspace); these are the
# values the Azure ML and Azure AI Foundry docs use (az ml workspace create --kind, the hub/project docs).
DEFAULT, HUB, PROJECT, FEATURE_STORE = "Default", "Hub", "Project", "FeatureStore"
KNOWN_KINDS = {k.lower(): k for k in (DEFAULT, HUB, PROJECT, FEATURE_STORE)}
# ManagedNetworkSettings.isolationMode (IsolationMode enum, 2025-09-01): only these two mean a managed network.
MANAGED_ISOLATION = frozenset({"allowinternetoutbound", "allowonlyapprovedoutbound"})


def normal_kind(raw: Any) -> str:
    """`kind` spelled as the docs spell it; an absent kind is Default; an unknown one is kept as ARM wrote it."""
    if not isinstance(raw, str) or not raw.strip():
        return DEFAULT
    return KNOWN_KINDS.get(raw.strip().lower(), raw.strip())


@dataclass(frozen=True)
class WorkspaceKind:
    """kind; `properties.hubResourceId` (a project's hub); `properties.associatedWorkspaces` (a hub's projects);
    `properties.managedNetwork.isolationMode` (None when ARM does not return one)."""

    kind: str = DEFAULT
    hub_resource_id: str | None = None
    associated_workspaces: tuple[str, ...] = ()
    isolation_mode: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any] | None) -> "WorkspaceKind":
        body = body if isinstance(body, dict) else {}
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        network = props.get("managedNetwork") if isinstance(props.get("managedNetwork"), dict) else {}
        hub = props.get("hubResourceId")
        linked = props.get("associatedWorkspaces")
        mode = network.get("isolationMode")
        return cls(
            kind=normal_kind(body.get("kind")),
            hub_resource_id=hub.strip() if isinstance(hub, str) and hub.strip() else None,
            associated_workspaces=tuple(w for w in linked if isinstance(w, str) and w) if isinstance(linked, list)
            else (),
            isolation_mode=mode if isinstance(mode, str) and mode else None,
        )

    @property
    def is_hub(self) -> bool:
        return self.kind == HUB

    @property
    def is_project(self) -> bool:
        return self.kind == PROJECT or self.hub_resource_id is not None

    @property
    def managed_network(self) -> bool:
        """True when the workspace has a managed virtual network (isolation mode other than Disabled)."""
        return (self.isolation_mode or "").lower() in MANAGED_ISOLATION
