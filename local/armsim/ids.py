"""ARM resource id helpers: parse, compare and rebase ids case-insensitively."""
from __future__ import annotations

import re

_RG_RE = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)", re.I)


def key(resource_id: str) -> str:
    """Canonical lookup key: leading slash, no trailing slash, lower case."""
    return "/" + resource_id.strip().strip("/").lower()


def segments(resource_id: str) -> list[str]:
    return [s for s in resource_id.strip().strip("/").split("/") if s]


def subscription_of(resource_id: str) -> str | None:
    parts = segments(resource_id)
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return None


def resource_group_of(resource_id: str) -> tuple[str, str] | None:
    """(subscription id, resource group name) of an id inside a resource group."""
    match = _RG_RE.match("/" + resource_id.strip().strip("/"))
    return (match.group(1), match.group(2)) if match else None


def rg_id(subscription_id: str, group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}"


def rg_key_of(resource_id: str) -> str | None:
    found = resource_group_of(resource_id)
    return key(rg_id(*found)) if found else None


def is_resource_group_id(resource_id: str) -> bool:
    parts = segments(resource_id)
    return len(parts) == 4 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups"


def type_of(resource_id: str) -> str | None:
    """Full resource type, e.g. Microsoft.MachineLearningServices/workspaces/computes."""
    parts = segments(resource_id)
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return None
    idx = len(lowered) - 1 - lowered[::-1].index("providers")
    rest = parts[idx + 1:]
    if len(rest) < 3:
        return None
    namespace, tail = rest[0], rest[1:]
    return "/".join([namespace] + tail[0::2])


def namespace_of(resource_id: str) -> str | None:
    found = type_of(resource_id)
    return found.split("/")[0] if found else None


def name_of(resource_id: str) -> str:
    return segments(resource_id)[-1]


def is_top_level(resource_id: str) -> bool:
    """True for /subscriptions/s/resourceGroups/g/providers/NS/type/name."""
    parts = segments(resource_id)
    return len(parts) == 8 and parts[4].lower() == "providers"


def top_level_of(resource_id: str) -> str | None:
    parts = segments(resource_id)
    if len(parts) >= 8 and parts[4].lower() == "providers":
        return "/" + "/".join(parts[:8])
    return None


def is_within(resource_id: str, scope: str) -> bool:
    """True if resource_id equals scope or lies below it."""
    rid, sc = key(resource_id), key(scope)
    return rid == sc or rid.startswith(sc + "/")


def rebase(resource_id: str, old_prefix: str, new_prefix: str) -> str:
    """Replace a (case-insensitive) id prefix, keeping the rest as written."""
    stripped = "/" + resource_id.strip().strip("/")
    old = "/" + old_prefix.strip("/")
    if not is_within(stripped, old):
        return resource_id
    return "/" + new_prefix.strip("/") + stripped[len(old):]


_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value or ""))
