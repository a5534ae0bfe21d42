"""Microsoft.Authorization role assignments: list for a scope (with atScope() / principalId filters) and get."""
from __future__ import annotations

import re

from aiohttp import web

from . import ids
from .errors import ArmError
from .router import Ctx, page, route

_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']+)'", re.I)


async def list_for_scope(ctx: Ctx) -> web.Response:
    scope = "/" + ctx.params["scope"].strip("/")
    at_scope_only = "atscope()" in (ctx.q("$filter") or "").lower()
    principal = _PRINCIPAL.search(ctx.q("$filter") or "")
    found = []
    for assignment in ctx.state.role_assignments.values():
        assigned = assignment["properties"]["scope"]
        above = ids.is_within(scope, assigned)
        below = ids.is_within(assigned, scope)
        if not (above or (below and not at_scope_only)):
            continue
        if principal and assignment["properties"]["principalId"].lower() != principal.group(1).lower():
            continue
        found.append(assignment)
    found.sort(key=lambda a: a["id"].lower())
    return web.json_response(page(ctx, found, ctx.state.page_sizes["default"]))


async def get_assignment(ctx: Ctx) -> web.Response:
    rid = f"/{ctx.params['scope'].strip('/')}/providers/Microsoft.Authorization/roleAssignments/{ctx.params['name']}"
    assignment = ctx.state.role_assignments.get(ids.key(rid))
    if assignment is None:
        raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{ctx.params['name']}' is not found.")
    return web.json_response(assignment)


ROUTES = [
    route("GET", "/{scope*}/providers/Microsoft.Authorization/roleAssignments", list_for_scope),
    route("GET", "/{scope*}/providers/Microsoft.Authorization/roleAssignments/{name}", get_assignment),
]
