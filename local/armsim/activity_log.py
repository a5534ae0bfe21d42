"""Microsoft.Insights ActivityLogs_List (2015-04-01): the subscription's management events, paged by nextLink.

Spec: specification/monitor/resource-manager/Microsoft.Insights/stable/2015-04-01/activityLogs_API.json (EventData,
EventDataCollection, the `$filter` patterns). Each operation writes a `Started` entry (eventName BeginRequest), an
`Accepted` one when it answered 202, then `Succeeded` or `Failed` (EndRequest); subStatus carries the HTTP status as
the spec describes ("OK (HTTP Status Code: 200)", "No Content (HTTP Status Code: 204)", ...). Entries share the
operation's correlationId and operationId; newest first.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

from aiohttp import web

from . import ids
from .errors import ArmError
from .events import RequestInfo
from .router import Ctx, page, route

API_VERSION = "2015-04-01"
SUB_STATUS = {200: "OK", 201: "Created", 202: "Accepted", 204: "NoContent", 400: "BadRequest", 404: "NotFound",
              409: "Conflict"}
_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ge|le)\s+'([^']*)'\s*$", re.I)
_FILTER_FIELDS = {"resourceprovider", "resourceuri", "resourcegroupname", "correlationid"}


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _parse(value: str) -> datetime:
    """An ISO 8601 time with up to 7 fractional digits (as ARM writes them); no zone means UTC."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip().replace("Z", "+00:00"))
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


class Operation:
    """The entries of one management operation, appended as it progresses."""

    def __init__(self, log: "ActivityLog", resource_id: str, operation_name: str, info: RequestInfo,
                 tenant_id: str, at: datetime | None = None) -> None:
        self.log, self.resource_id, self.operation_name, self.info = log, resource_id, operation_name, info
        self.tenant_id = tenant_id
        self.operation_id = str(uuid.uuid4())
        self.add("Started", None, at)

    def add(self, status: str, http_status: int | None, at: datetime | None = None) -> None:
        at = at or datetime.now(timezone.utc)
        event_data_id = str(uuid.uuid4())
        sub = ids.subscription_of(self.resource_id) or ""
        group = (ids.resource_group_of(self.resource_id) or ("", ""))[1]
        claims = self.info.claims
        caller = (claims.get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn") or claims.get("name")
                  or claims.get("appid") or "")
        begin = status == "Started"
        self.log.entries.append({
            "authorization": {"action": self.operation_name, "scope": self.resource_id},
            "caller": caller, "channels": "Operation", "claims": claims,
            "correlationId": self.info.correlation_id, "description": "", "eventDataId": event_data_id,
            "eventName": {"value": "BeginRequest" if begin else "EndRequest",
                          "localizedValue": "Begin request" if begin else "End request"},
            "category": {"value": "Administrative", "localizedValue": "Administrative"},
            "httpRequest": {"clientRequestId": self.info.client_request_id, "clientIpAddress": self.info.client_ip,
                            "method": self.info.method, "uri": self.info.url},
            "id": f"{self.resource_id}/events/{event_data_id}/ticks/{int(at.timestamp() * 10**7)}",
            "level": "Error" if status == "Failed" else "Informational",
            "resourceGroupName": group,
            "resourceProviderName": {"value": self.operation_name.split("/")[0],
                                     "localizedValue": self.operation_name.split("/")[0]},
            "resourceType": {"value": "/".join(self.operation_name.split("/")[:-1]),
                             "localizedValue": "/".join(self.operation_name.split("/")[:-1])},
            "resourceId": self.resource_id, "operationId": self.operation_id,
            "operationName": {"value": self.operation_name, "localizedValue": self.operation_name},
            "properties": {"statusCode": SUB_STATUS.get(http_status or 0, "")} if http_status else {},
            "status": {"value": status, "localizedValue": status},
            "subStatus": {"value": SUB_STATUS.get(http_status or 0, ""), "localizedValue": SUB_STATUS.get(
                http_status or 0, "")},
            "eventTimestamp": _stamp(at), "submissionTimestamp": _stamp(at + timedelta(seconds=1)),
            "subscriptionId": sub, "tenantId": self.tenant_id,
        })

    def finish(self, http_status: int, at: datetime | None = None) -> None:
        """Accepted for a 202, Succeeded for another 2xx, Failed otherwise."""
        if http_status == 202:
            self.add("Accepted", 202, at)
            return
        self.add("Succeeded" if 200 <= http_status < 300 else "Failed", http_status, at)


class ActivityLog:
    """Every logged operation's entries, in the order they happened."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def start(self, resource_id: str, operation_name: str, info: RequestInfo, tenant_id: str,
              at: datetime | None = None) -> Operation:
        return Operation(self, resource_id, operation_name, info, tenant_id, at)

    def shift(self, seconds: float) -> int:
        """Move every entry's timestamps by `seconds` (tests: an operation that happened days ago)."""
        for entry in self.entries:
            for name in ("eventTimestamp", "submissionTimestamp"):
                entry[name] = _stamp(_parse(entry[name]) + timedelta(seconds=seconds))
        return len(self.entries)

    def seed(self, state, base_url: str) -> None:
        """A Started and a Succeeded delete at `deletedAt` for each soft-deleted workspace of the scenario."""
        from .events import claims_for

        for entry in state.soft_deleted.values():
            ws_id = entry["workspace"]["id"]
            tenant = state.tenant_of(ids.subscription_of(ws_id) or "") or ""
            at = datetime.fromisoformat(entry["deletedAt"].replace("Z", "+00:00"))
            info = RequestInfo("DELETE", f"{base_url}{ws_id}?api-version=2025-09-01", str(uuid.uuid4()), "127.0.0.1",
                               str(uuid.uuid4()), claims_for(state.principals, None, tenant))
            self.start(ws_id, "Microsoft.MachineLearningServices/workspaces/delete", info, tenant,
                       at - timedelta(seconds=2)).finish(200, at)


def _filter(raw: str | None) -> dict[str, str]:
    """The spec's only patterns: `eventTimestamp ge '…' and eventTimestamp le '…'` plus at most one equality."""
    if not raw:
        raise ArmError(400, "BadRequest", "The $filter query parameter is required: eventTimestamp ge '<start>' and "
                                          "eventTimestamp le '<end>' [and <field> eq '<value>'].")
    clauses: dict[str, str] = {}
    for part in re.split(r"\s+and\s+", raw.strip(), flags=re.I):
        match = _CLAUSE.match(part)
        if not match:
            raise ArmError(400, "BadRequest", f"The $filter clause '{part}' is not supported.")
        name, op, value = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if name == "eventtimestamp" and op in ("ge", "le"):
            clauses[op] = value
        elif name in _FILTER_FIELDS and op == "eq" and not (set(clauses) & _FILTER_FIELDS):
            clauses[name] = value
        else:
            raise ArmError(400, "BadRequest", f"The $filter clause '{part}' is not supported.")
    if "ge" not in clauses:
        raise ArmError(400, "BadRequest", "The $filter must give eventTimestamp ge '<start>'.")
    return clauses


def _matches(entry: dict, clauses: dict[str, str], start: datetime, end: datetime) -> bool:
    at = _parse(entry["eventTimestamp"])
    if not start <= at <= end:
        return False
    for name, value in clauses.items():
        if name == "resourceprovider" and entry["resourceProviderName"]["value"].lower() != value.lower():
            return False
        if name == "resourceuri" and entry["resourceId"].lower() != value.lower():
            return False
        if name == "resourcegroupname" and entry["resourceGroupName"].lower() != value.lower():
            return False
        if name == "correlationid" and entry["correlationId"].lower() != value.lower():
            return False
    return True


async def list_activity_log(ctx: Ctx) -> web.Response:
    if ctx.state.subscription(ctx.params["sub"]) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
    clauses = _filter(ctx.q("$filter"))
    try:
        start = _parse(clauses["ge"])
        end = _parse(clauses["le"]) if "le" in clauses else datetime.now(timezone.utc)
    except ValueError as exc:
        raise ArmError(400, "BadRequest", f"The eventTimestamp in $filter is not a date-time: {exc}") from exc
    sub = ctx.params["sub"].lower()
    found = [e for e in ctx.sim.activity_log.entries
             if e["subscriptionId"].lower() == sub and _matches(e, clauses, start, end)]
    found.sort(key=lambda e: _parse(e["eventTimestamp"]), reverse=True)
    return web.json_response(page(ctx, found, ctx.state.page_sizes.get("activityLog", 50), "$skipToken"))


ROUTES = [
    route("GET", "/subscriptions/{sub}/providers/microsoft.insights/eventtypes/management/values", list_activity_log),
]
