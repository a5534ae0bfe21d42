"""The move / validate request body: parsing with field-named 400s, and the allow-list check (403)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.azure.arm_ids import ArmIdError, ResourceGroupId, ResourceId, SubscriptionId, parse_workspace_id
from shared.errors import ApiError, bad_request
from shared.settings import Settings

APPROVE_CHOICES = ("pre-existing", "none")
# ARM moves at most 800 resources per request.
MAX_INCLUDED_RESOURCES = 800

VALIDATE_FIELDS = (
    "workspaceId",
    "targetResourceGroupId",
    "includeResources",
    "includeAssociated",
    "createTargetResourceGroup",
    "quiesce",  # remove computes / online endpoints before the move, re-create them after
    "cancelJobs",  # with quiesce, cancel the active jobs too
    "allowUndocumented",  # check ids whose "not documented as supported" the caller accepts (docs/preflight.md)
)
# The checks that fail only because the move docs are silent; a request may opt in to each one by id
# (shared/moves/preflight/kind_checks.py). A documented limitation never can be opted out of.
UNDOCUMENTED_CHECKS = ("workspace.kind", "workspace.hub-projects", "workspace.managed-network")
MOVE_FIELDS = ("approvePrivateEndpoints", "fixDatastores", "recreateRoleAssignments")


@dataclass(frozen=True)
class MoveRequest:
    """What to move where; ids are parsed and checked, nothing here has touched ARM yet."""

    workspace: ResourceId
    target: ResourceGroupId
    include_resources: tuple[ResourceId, ...] = ()
    include_associated: bool = False
    create_target_resource_group: bool = False
    approve_private_endpoints: str = "pre-existing"
    fix_datastores: bool = True
    quiesce: bool = False
    cancel_jobs: bool = False
    allow_undocumented: tuple[str, ...] = ()

    @property
    def source(self) -> ResourceGroupId:
        return self.workspace.resource_group_id

    def to_json(self) -> dict[str, Any]:
        """camelCase, like the HTTP body (round-trips through :meth:`from_json`)."""
        return {
            "workspaceId": self.workspace.id,
            "targetResourceGroupId": self.target.id,
            "includeResources": [rid.id for rid in self.include_resources],
            "includeAssociated": self.include_associated,
            "createTargetResourceGroup": self.create_target_resource_group,
            "approvePrivateEndpoints": self.approve_private_endpoints,
            "fixDatastores": self.fix_datastores,
            "quiesce": self.quiesce,
            "cancelJobs": self.cancel_jobs,
            "allowUndocumented": list(self.allow_undocumented),
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "MoveRequest":
        return parse_move_request(body, for_move=True)


def parse_move_request(body: dict[str, Any], *, for_move: bool = False) -> MoveRequest:
    """Parse and check a request body; every problem raises ApiError(400) whose target names the field.

    The validate route ignores the move-only fields, so one body serves both routes.
    """
    if not isinstance(body, dict):
        raise bad_request("body", f"must be a JSON object, got {type(body).__name__}")
    known = VALIDATE_FIELDS + MOVE_FIELDS
    for name in body:
        if name not in known:
            raise bad_request(name, f"unknown field {name!r}; accepted fields: {', '.join(known)}")

    workspace = _id_field(body, "workspaceId", parse_workspace_id, "an Azure ML workspace id")
    target = _id_field(body, "targetResourceGroupId", ResourceGroupId.parse, "a resource group id")
    if target == workspace.resource_group_id:
        raise bad_request(
            "targetResourceGroupId", f"is the workspace's own resource group ({target.id}); a move needs another one"
        )

    include = _resource_list(body, workspace)
    include_associated = _bool_field(body, "includeAssociated", False)
    create_target = _bool_field(body, "createTargetResourceGroup", False)
    quiesce = _bool_field(body, "quiesce", False)
    cancel_jobs = _bool_field(body, "cancelJobs", False)
    if cancel_jobs and not quiesce:
        raise bad_request("cancelJobs", "only applies with quiesce: true (jobs are canceled as part of the quiesce)")

    allow_undocumented = _undocumented(body)
    approve, fix = "pre-existing", True
    if for_move:
        approve = body.get("approvePrivateEndpoints", "pre-existing")
        if not isinstance(approve, str) or approve not in APPROVE_CHOICES:
            raise bad_request(
                "approvePrivateEndpoints",
                f"must be one of {', '.join(repr(c) for c in APPROVE_CHOICES)}, got {approve!r}",
            )
        fix = _bool_field(body, "fixDatastores", True)

    return MoveRequest(
        workspace,
        target,
        include_resources=include,
        include_associated=include_associated,
        create_target_resource_group=create_target,
        approve_private_endpoints=approve,
        fix_datastores=fix,
        quiesce=quiesce,
        cancel_jobs=cancel_jobs,
        allow_undocumented=allow_undocumented,
    )


def check_allowed(request: MoveRequest, settings: Settings) -> None:
    """Refuse (403) a target outside AML_LIFECYCLE_ALLOWED_TARGETS; a subscription entry allows all its groups."""
    for entry in settings.allowed_targets:
        if isinstance(entry, SubscriptionId) and entry.contains(request.target):
            return
        if isinstance(entry, ResourceGroupId) and entry == request.target:
            return
    reason = (
        "no move target is allowed (the setting is empty)"
        if not settings.allowed_targets
        else "it is not in the allow-list"
    )
    raise ApiError(
        403,
        "TargetNotAllowed",
        f"moves to {request.target.id} are refused: {reason}; ask the platform team to add the subscription "
        "or resource group to AML_LIFECYCLE_ALLOWED_TARGETS",
        "targetResourceGroupId",
    )


def _id_field(body: dict[str, Any], name: str, parser: Any, what: str) -> Any:
    value = body.get(name)
    if value is None:
        raise bad_request(name, f"is required: {what}")
    if not isinstance(value, str):
        raise bad_request(name, f"must be a string ({what}), got {type(value).__name__}")
    try:
        return parser(value.strip())
    except ArmIdError as exc:
        raise bad_request(name, f"is not {what}: {exc}") from None


def _bool_field(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(name, f"must be true or false, got {value!r}")
    return value


def _undocumented(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("allowUndocumented")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("allowUndocumented", f"must be a list of check ids, got {type(value).__name__}")
    found: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or item not in UNDOCUMENTED_CHECKS:
            raise bad_request(f"allowUndocumented[{index}]", f"must be one of {', '.join(UNDOCUMENTED_CHECKS)} "
                              f"(the checks that fail only because the docs are silent), got {item!r}")
        if item not in found:
            found.append(item)
    return tuple(found)


RIDE_ALONG_REFUSED = "microsoft.machinelearningservices/workspaces"


def _resource_list(body: dict[str, Any], workspace: ResourceId) -> tuple[ResourceId, ...]:
    value = body.get("includeResources")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("includeResources", f"must be a list of resource ids, got {type(value).__name__}")
    if len(value) > MAX_INCLUDED_RESOURCES:
        raise bad_request("includeResources", f"lists {len(value)} ids; ARM moves at most {MAX_INCLUDED_RESOURCES}")
    found: list[ResourceId] = []
    for index, item in enumerate(value):
        field = f"includeResources[{index}]"
        if not isinstance(item, str):
            raise bad_request(field, f"must be a resource id string, got {type(item).__name__}")
        try:
            rid = ResourceId.parse(item.strip())
        except ArmIdError as exc:
            raise bad_request(field, f"is not a resource id: {exc}") from None
        if len(rid.types) > 1:
            raise bad_request(
                field, f"is a child resource ({rid.type}); only top-level resources move, with their children"
            )
        if rid != workspace and rid.type.lower() == RIDE_ALONG_REFUSED:
            raise bad_request(
                field, "is another Azure ML workspace: a workspace cannot ride along (it would move unchecked, "
                "unclaimed and unfollowed); start its own POST /api/moves — moves of one resource group queue for "
                "ARM's lock and all run"
            )
        if rid.resource_group_id != workspace.resource_group_id:
            raise bad_request(
                field,
                f"is in {rid.resource_group_id.id}; every resource must be in the workspace's resource group "
                f"{workspace.resource_group_id.id}",
            )
        if rid != workspace and rid not in found:
            found.append(rid)
    return tuple(found)
