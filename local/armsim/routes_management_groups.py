"""Microsoft.Management management groups: the descendants list (groups and subscriptions below a group), paged.

Follows the Management Groups REST spec, ManagementGroups_GetDescendants (api-version 2023-04-01, example
GetDescendants.json): items `{id, type, name, properties: {displayName, parent: {id}}}`, subscriptions typed
`Microsoft.Management/managementGroups/subscriptions` with id `/subscriptions/<id>`, `nextLink` while more remain.
"""
from __future__ import annotations

from aiohttp import web

from .errors import ArmError
from .router import Ctx, page, route

MG = "/providers/Microsoft.Management/managementGroups"


def _walk(ctx: Ctx, group: dict, out: list[dict]) -> None:
    parent = {"id": f"{MG}/{group['name']}"}
    for sub_id in sorted(group["subscriptions"]):
        sub = ctx.state.subscription(sub_id)
        out.append({"id": f"/subscriptions/{sub_id}", "type": "Microsoft.Management/managementGroups/subscriptions",
                    "name": sub_id, "properties": {"displayName": sub["displayName"] if sub else sub_id,
                                                   "parent": parent}})
    children = sorted((g for g in ctx.state.management_groups.values()
                       if (g["parent"] or "").lower() == group["name"].lower()), key=lambda g: g["name"].lower())
    for child in children:
        out.append({"id": f"{MG}/{child['name']}", "type": "Microsoft.Management/managementGroups",
                    "name": child["name"], "properties": {"displayName": child["displayName"], "parent": parent}})
        _walk(ctx, child, out)


async def get_descendants(ctx: Ctx) -> web.Response:
    group = ctx.state.management_groups.get(ctx.params["group"].lower())
    if group is None:
        # Azure answers a group the caller cannot see like one that does not exist (the spec's default ErrorResponse).
        raise ArmError(403, "AuthorizationFailed", f"The client does not have authorization to perform action "
                                                   f"'Microsoft.Management/managementGroups/descendants/read' over scope "
                                                   f"'{MG}/{ctx.params['group']}' or the scope is invalid.")
    items: list[dict] = []
    _walk(ctx, group, items)
    return web.json_response(page(ctx, items, ctx.state.page_sizes["descendants"]))


ROUTES = [
    route("GET", MG + "/{group}/descendants", get_descendants),
]
