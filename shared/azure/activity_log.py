"""Gateway to the Azure Activity Log (Microsoft.Insights ActivityLogs_List, 2015-04-01): bounded, paged reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from shared.errors import describe_azure_error

log = logging.getLogger("aml_lifecycle.activity_log")

API_VERSION = "2015-04-01"
ML_PROVIDER = "Microsoft.MachineLearningServices"
MAX_PAGES = 50  # a read that needs more is reported incomplete, never silently cut
SELECT = ("caller,claims,correlationId,eventDataId,eventName,eventTimestamp,httpRequest,operationId,operationName,"
          "resourceId,status,subStatus,submissionTimestamp,subscriptionId")


def odata_time(moment: datetime) -> str:
    """ISO 8601 UTC with `Z`, as the spec's `$filter` examples write eventTimestamp."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ActivityLogRead:
    """What one read returned: the entries (EventData objects), the window asked for, and whether every page of it
    was read (`complete`); `error` says why not."""

    subscription_id: str
    start: datetime
    end: datetime
    entries: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    error: str | None = None
    pages: int = 0

    def describe(self) -> dict[str, Any]:
        body = {"from": odata_time(self.start), "to": odata_time(self.end), "complete": self.complete,
                "entries": len(self.entries), "pages": self.pages}
        if self.error:
            body["error"] = self.error
        return body


def read_activity_log(pipeline: Any, subscription_id: str, start: datetime, end: datetime, *,
                      resource_provider: str | None = None, resource_uri: str | None = None,
                      max_pages: int = MAX_PAGES) -> ActivityLogRead:
    """`GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values` with the spec's `$filter`
    (eventTimestamp ge/le and one of resourceProvider / resourceUri), following `nextLink` up to `max_pages`.

    Never raises for ARM: a failure (403, throttling past the pipeline's bounded retries, which honour Retry-After,
    5xx) or a page cap ends the read with `complete=False` and `error`; what was read so far is kept.
    """
    # Whole seconds: `le` rounds up, so an entry of the current second is inside the window.
    clauses = [f"eventTimestamp ge '{odata_time(start)}'",
               f"eventTimestamp le '{odata_time(end + timedelta(seconds=1))}'"]
    if resource_uri:
        clauses.append(f"resourceUri eq '{resource_uri}'")
    elif resource_provider:
        clauses.append(f"resourceProvider eq '{resource_provider}'")
    url = pipeline.format_url(f"/subscriptions/{subscription_id}/providers/Microsoft.Insights/eventtypes/management/"
                              "values")
    params: dict[str, str] | None = {"api-version": API_VERSION, "$filter": " and ".join(clauses), "$select": SELECT}
    entries: list[dict[str, Any]] = []
    for page_number in range(1, max_pages + 1):
        try:
            response = pipeline.send_request(HttpRequest("GET", url, params=params))
            if response.status_code != 200:
                detail = _error_of(response)
                log.warning("activity log read of %s failed: %s", subscription_id, detail)
                return ActivityLogRead(subscription_id, start, end, entries, False, detail, page_number - 1)
            body = response.json() or {}
        except (AzureError, ValueError) as exc:
            detail = describe_azure_error(exc) if isinstance(exc, AzureError) else f"not JSON: {exc}"
            log.warning("activity log read of %s failed: %s", subscription_id, detail)
            return ActivityLogRead(subscription_id, start, end, entries, False, detail, page_number - 1)
        entries.extend(e for e in body.get("value") or [] if isinstance(e, dict))
        next_link = body.get("nextLink")
        if not next_link:
            return ActivityLogRead(subscription_id, start, end, entries, True, None, page_number)
        url, params = next_link, None  # the nextLink carries the filter and the skip token
    return ActivityLogRead(subscription_id, start, end, entries, False,
                           f"more than {max_pages} pages: the rest of the window was not read", max_pages)


def _error_of(response: Any) -> str:
    try:
        error = (response.json() or {}).get("error") or {}
        code, message = error.get("code") or "", error.get("message") or ""
    except Exception:  # not JSON
        code, message = "", ""
    return f"HTTP {response.status_code} {code}: {message}".strip().rstrip(":")
