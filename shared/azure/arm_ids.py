"""Parse and build Azure Resource Manager ids: subscriptions, resource groups, provider resources."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Union

WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Resource group: 1-90 chars of letters, digits, underscores, hyphens, periods and parentheses; no final period.
_RESOURCE_GROUP = re.compile(r"^[\w\-.()]{1,90}$", re.UNICODE)
_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_NAME_FORBIDDEN = re.compile(r"[/\\?#%&<>*:]|\s$|^\s")
# Azure ML workspace names: 3-33 characters, letters, digits, hyphens and underscores, starting alphanumeric.
_WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$")


class ArmIdError(ValueError):
    """An ARM id is malformed; the message names the part that is wrong."""

    def __init__(self, part: str, problem: str, text: str | None = None) -> None:
        where = f" in {text!r}" if text is not None else ""
        super().__init__(f"{part} {problem}{where}")
        self.part = part
        self.problem = problem


def _check_subscription(value: str, text: str | None = None) -> str:
    if not _GUID.match(value):
        raise ArmIdError("subscription id", f"must be a GUID, got {value!r}", text)
    return value


def _check_resource_group(value: str, text: str | None = None) -> str:
    if not _RESOURCE_GROUP.match(value) or value.endswith("."):
        raise ArmIdError(
            "resource group name",
            f"must be 1-90 letters, digits, '_', '-', '.', '(' or ')' not ending in '.', got {value!r}",
            text,
        )
    return value


def _check_name(value: str, text: str | None = None) -> str:
    if not value or len(value) > 260 or _NAME_FORBIDDEN.search(value):
        raise ArmIdError("resource name", f"is empty, too long or holds a forbidden character: {value!r}", text)
    return value


class _ArmId:
    """What every id kind shares: its text, case-insensitive equality and hashing, parsing to its own kind."""

    KIND = "id"

    @property
    def id(self) -> str:
        raise NotImplementedError

    @classmethod
    def parse(cls, text: str):
        parsed = parse(text)
        if not isinstance(parsed, cls):
            raise ArmIdError("id", f"is not a {cls.KIND}", text)
        return parsed

    def __str__(self) -> str:
        return self.id

    def __eq__(self, other: object) -> bool:
        return self.id.lower() == other.id.lower() if isinstance(other, _ArmId) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.id.lower())


@dataclass(frozen=True, eq=False)
class SubscriptionId(_ArmId):
    """`/subscriptions/{id}`."""

    KIND = "subscription id"

    subscription_id: str

    def __post_init__(self) -> None:
        _check_subscription(self.subscription_id)

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    @property
    def subscription(self) -> "SubscriptionId":
        return self

    def resource_group(self, name: str) -> "ResourceGroupId":
        return ResourceGroupId(self.subscription_id, name)

    def contains(self, other: "AnyId") -> bool:
        return other.subscription_id.lower() == self.subscription_id.lower()


@dataclass(frozen=True, eq=False)
class ResourceGroupId(_ArmId):
    """`/subscriptions/{id}/resourceGroups/{name}`."""

    KIND = "resource group id (/subscriptions/{id}/resourceGroups/{name})"

    subscription_id: str
    name: str

    def __post_init__(self) -> None:
        _check_subscription(self.subscription_id)
        _check_resource_group(self.name)

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.name}"

    @property
    def subscription(self) -> SubscriptionId:
        return SubscriptionId(self.subscription_id)

    def resource(self, resource_type: str, *names: str) -> "ResourceId":
        namespace, *types = resource_type.split("/")
        return ResourceId(self.subscription_id, self.name, namespace, tuple(types), tuple(names))

    def contains(self, other: "AnyId") -> bool:
        return isinstance(other, (ResourceGroupId, ResourceId)) and other.resource_group_id == self


@dataclass(frozen=True, eq=False)
class ResourceId(_ArmId):
    """A provider resource in a resource group, possibly a child: `.../providers/{ns}/{type}/{name}[/{type}/{name}...]`."""

    KIND = "provider resource id (.../providers/{namespace}/{type}/{name})"

    subscription_id: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_subscription(self.subscription_id)
        _check_resource_group(self.resource_group)
        if not _NAMESPACE.match(self.namespace):
            raise ArmIdError("provider namespace", f"must look like Microsoft.Something, got {self.namespace!r}")
        if not self.types or len(self.types) != len(self.names):
            raise ArmIdError("resource type", "must be followed by a name at every level")
        for resource_type in self.types:
            if not _TYPE.match(resource_type):
                raise ArmIdError("resource type", f"must be letters and digits, got {resource_type!r}")
        for name in self.names:
            _check_name(name)

    @property
    def id(self) -> str:
        pairs = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names))
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/{self.namespace}/{pairs}"

    @property
    def type(self) -> str:
        """The full resource type, e.g. `Microsoft.MachineLearningServices/workspaces/computes`."""
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def subscription(self) -> SubscriptionId:
        return SubscriptionId(self.subscription_id)

    @property
    def resource_group_id(self) -> ResourceGroupId:
        return ResourceGroupId(self.subscription_id, self.resource_group)

    @property
    def parent(self) -> "ResourceId | ResourceGroupId":
        if len(self.types) == 1:
            return self.resource_group_id
        return ResourceId(self.subscription_id, self.resource_group, self.namespace, self.types[:-1], self.names[:-1])

    def child(self, resource_type: str, name: str) -> "ResourceId":
        return ResourceId(
            self.subscription_id, self.resource_group, self.namespace, (*self.types, resource_type), (*self.names, name)
        )

    def is_type(self, resource_type: str) -> bool:
        return self.type.lower() == resource_type.lower()

    def moved_to(self, target: ResourceGroupId) -> "ResourceId":
        """The same resource under another resource group (what a move does to an id)."""
        return ResourceId(target.subscription_id, target.name, self.namespace, self.types, self.names)


AnyId = Union[SubscriptionId, ResourceGroupId, ResourceId]


def parse(text: str) -> AnyId:
    """Parse any subscription, resource group or provider resource id; raises :class:`ArmIdError`."""
    if not isinstance(text, str):
        raise ArmIdError("id", f"must be a string, got {type(text).__name__}")
    if not text.startswith("/"):
        raise ArmIdError("id", "must start with '/subscriptions/'", text)
    segments = text.strip("/").split("/") if text.strip("/") else []
    if "" in segments:
        raise ArmIdError("id", "has an empty segment ('//')", text)
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        raise ArmIdError("id", "must start with '/subscriptions/{subscriptionId}'", text)
    subscription = _check_subscription(segments[1], text)
    if len(segments) == 2:
        return SubscriptionId(subscription)
    if segments[2].lower() != "resourcegroups":
        raise ArmIdError("id", f"expected 'resourceGroups' after the subscription, got {segments[2]!r}", text)
    if len(segments) < 4:
        raise ArmIdError("resource group name", "is missing", text)
    group = _check_resource_group(segments[3], text)
    if len(segments) == 4:
        return ResourceGroupId(subscription, group)
    if segments[4].lower() != "providers":
        raise ArmIdError("id", f"expected 'providers' after the resource group, got {segments[4]!r}", text)
    if len(segments) < 6:
        raise ArmIdError("provider namespace", "is missing", text)
    namespace = segments[5]
    if not _NAMESPACE.match(namespace):
        raise ArmIdError("provider namespace", f"must look like Microsoft.Something, got {namespace!r}", text)
    rest = segments[6:]
    if not rest:
        raise ArmIdError("resource type", "is missing", text)
    if len(rest) % 2:
        raise ArmIdError("resource name", f"is missing after type {rest[-1]!r}", text)
    types, names = tuple(rest[0::2]), tuple(rest[1::2])
    for resource_type in types:
        if not _TYPE.match(resource_type):
            raise ArmIdError("resource type", f"must be letters and digits, got {resource_type!r}", text)
    for name in names:
        _check_name(name, text)
    return ResourceId(subscription, group, namespace, types, names)


def parse_scope(text: str) -> SubscriptionId | ResourceGroupId:
    """A subscription or resource group id (what an allow-list or a role scope holds)."""
    parsed = parse(text)
    if isinstance(parsed, ResourceId):
        raise ArmIdError("id", "must be a subscription or resource group id, not a resource id", text)
    return parsed


def workspace_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """Build an ML workspace id, validating the workspace name."""
    check_workspace_name(name)
    return ResourceGroupId(subscription_id, resource_group).resource(WORKSPACE_TYPE, name)


def parse_workspace_id(text: str) -> ResourceId:
    """Parse an id that must be an Azure ML workspace (not a child, not another type)."""
    parsed = ResourceId.parse(text)
    if not parsed.is_type(WORKSPACE_TYPE):
        raise ArmIdError("resource type", f"must be {WORKSPACE_TYPE}, got {parsed.type}", text)
    check_workspace_name(parsed.name, text)
    return parsed


def check_workspace_name(name: str, text: str | None = None) -> str:
    if not _WORKSPACE_NAME.match(name):
        raise ArmIdError(
            "workspace name",
            f"must be 3-33 letters, digits, '-' or '_' starting with a letter or digit, got {name!r}",
            text,
        )
    return name


def is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return bool(_GUID.match(value))
