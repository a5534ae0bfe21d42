"""One bounded workspace GET for the reconciliation: 404, live (with its internal id), or failed; 429 honoured, capped."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from shared.azure.ml_gateway import API_VERSION

log = logging.getLogger("aml_lifecycle.reconcile")

ABSENT = "absent"  # 404: soft-deleted (or purged: ARM shows no difference)
LIVE = "live"
FAILED = "failed"
ATTEMPTS = 3
RETRY_AFTER_CAP = 10.0  # seconds; a longer Retry-After gives up for this sweep (the next one retries)
BACKOFF = 1.0  # azure-core's backoff factor for a 5xx without Retry-After (seconds, doubled per retry)


@dataclass(frozen=True)
class ProbeResult:
    """What one workspace GET said: `outcome` absent | live | failed, the live workspace's internal id, a detail."""

    outcome: str
    internal_id: str | None = None
    detail: str | None = None


class WorkspaceProbe:
    """Workspaces_Get (2025-09-01) through the ARM pipeline's bounded retries (shared/azure/bounded_retry.py), with a
    tighter Retry-After cap for this call: a sweep gives up on a longer one and retries at its next run."""

    def __init__(self, pipeline: Any, *, attempts: int = ATTEMPTS, retry_after_cap: float = RETRY_AFTER_CAP) -> None:
        self._pipeline = pipeline
        self.attempts = attempts
        self.retry_after_cap = retry_after_cap

    def __call__(self, workspace_id: str) -> ProbeResult:
        request = HttpRequest("GET", self._pipeline.format_url(workspace_id), params={"api-version": API_VERSION})
        try:
            # Connection and read failures are not retried here: no answer means the next sweep tries again.
            response = self._pipeline.send_request(
                request, retry_total=self.attempts - 1, retry_connect=0, retry_read=0,
                retry_backoff_factor=BACKOFF, retry_max_after=self.retry_after_cap)
        except AzureError as exc:
            return self._failed(workspace_id, type(exc).__name__)
        status = response.status_code
        if status == 404:
            return ProbeResult(ABSENT, detail="404 Not Found")
        if status == 200:
            props = (response.json() or {}).get("properties") or {}
            return ProbeResult(LIVE, props.get("workspaceId"), "200 OK")
        detail = f"HTTP {status} {_error_code(response)}".strip()
        wait = _retry_after(response)
        if wait is not None and wait > self.retry_after_cap:
            detail += f" (Retry-After {wait:g}s is over the {self.retry_after_cap:g}s cap)"
        return self._failed(workspace_id, detail)

    @staticmethod
    def _failed(workspace_id: str, detail: str) -> ProbeResult:
        log.warning("reconcile: GET %s failed: %s", workspace_id, detail)
        return ProbeResult(FAILED, detail=detail)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: no cap can be judged


def _error_code(response: Any) -> str:
    try:
        return str(((response.json() or {}).get("error") or {}).get("code") or "")
    except Exception:  # not JSON
        return ""
