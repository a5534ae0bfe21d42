"""One bounded workspace GET for the reconciliation: 404, live (with its internal id), or failed; 429 honoured, capped."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from shared.azure.ml_gateway import API_VERSION

log = logging.getLogger("aml_lifecycle.reconcile")

ABSENT = "absent"  # 404: soft-deleted (or purged: ARM shows no difference)
LIVE = "live"
FAILED = "failed"
ATTEMPTS = 3
RETRY_AFTER_CAP = 10.0  # seconds; a longer Retry-After gives up for this sweep (the next one retries)
BACKOFF = 1.0  # seconds before retrying a 5xx without Retry-After
RETRIED = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ProbeResult:
    """What one workspace GET said: `outcome` absent | live | failed, the live workspace's internal id, a detail."""

    outcome: str
    internal_id: str | None = None
    detail: str | None = None


class WorkspaceProbe:
    """Workspaces_Get (2025-09-01) with its own bounded retry: the pipeline's retries are turned off for this call
    because azure-core sleeps for any Retry-After however long (a sweep must not)."""

    def __init__(self, pipeline: Any, *, sleep: Callable[[float], None] = time.sleep,
                 attempts: int = ATTEMPTS, retry_after_cap: float = RETRY_AFTER_CAP) -> None:
        self._pipeline = pipeline
        self._sleep = sleep
        self.attempts = attempts
        self.retry_after_cap = retry_after_cap

    def __call__(self, workspace_id: str) -> ProbeResult:
        url = self._pipeline.format_url(workspace_id)
        detail = "not tried"
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._pipeline.send_request(
                    HttpRequest("GET", url, params={"api-version": API_VERSION}), retry_total=0)
            except AzureError as exc:  # connection refused, timeout: no answer; the next sweep tries again
                detail = type(exc).__name__
                break
            else:
                status = response.status_code
                if status == 404:
                    return ProbeResult(ABSENT, detail="404 Not Found")
                if status == 200:
                    props = (response.json() or {}).get("properties") or {}
                    return ProbeResult(LIVE, props.get("workspaceId"), "200 OK")
                detail = f"HTTP {status} {_error_code(response)}".strip()
                if status not in RETRIED:
                    break
                wait = _retry_after(response)
                if wait is None:
                    wait = BACKOFF * attempt
                elif wait > self.retry_after_cap:
                    detail += f" (Retry-After {wait:g}s is over the {self.retry_after_cap:g}s cap)"
                    break
            if attempt < self.attempts:
                self._sleep(wait)
        log.warning("reconcile: GET %s failed: %s", workspace_id, detail)
        return ProbeResult(FAILED, detail=detail)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: treat as a plain backoff


def _error_code(response: Any) -> str:
    try:
        return str(((response.json() or {}).get("error") or {}).get("code") or "")
    except Exception:  # not JSON
        return ""
