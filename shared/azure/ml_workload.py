"""Raw ARM calls on a workspace's workload (computes, online endpoints, deployments, jobs) and their operations.

Shapes follow the 2025-09-01 REST spec (machineLearningServices.json `Compute_*`, mfe.json `OnlineEndpoints_*`,
`OnlineDeployments_*`, `Jobs_Cancel`): creates answer 200 / 201 with an `Azure-AsyncOperation` header, deletes and
cancels 202 with `Location`. Bodies here may be whole ARM definitions; the callers strip secrets before storing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest

from shared.azure.arm_ids import ResourceId
from shared.azure.ml_gateway import TERMINAL_JOB_STATUSES, MlGateway
from shared.errors import describe_azure_error, redact

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
# Azure-AsyncOperation `status` values that end an operation (ARM async operation resource format).
_ASYNC_DONE = {"succeeded": SUCCEEDED, "failed": FAILED, "canceled": FAILED}
_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Started:
    """The answer to a PUT / DELETE / cancel: HTTP status, and the URL to follow if the operation runs on."""

    status: int
    operation: str | None  # Azure-AsyncOperation (creates) or Location (deletes, cancels)
    operation_kind: str | None  # "async" or "location"
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Progress:
    status: str  # running / succeeded / failed
    message: str | None = None


class WorkloadGateway(MlGateway):
    """Reads and writes of workspace children as plain ARM JSON, and one poll of their operations."""

    def __init__(self, pipeline: Any, *, arm_endpoint: str) -> None:
        super().__init__(pipeline)
        self.arm_endpoint = arm_endpoint.rstrip("/")

    # reads ---------------------------------------------------------------------------------------
    def find(self, resource_id: str) -> dict[str, Any] | None:
        """The resource's ARM body, or None when it does not exist (404)."""
        try:
            return self._get(resource_id)
        except ResourceNotFoundError:
            return None

    def computes(self, workspace: ResourceId | str) -> list[dict[str, Any]]:
        return list(self._list(f"{_id(workspace)}/computes"))

    def online_endpoints(self, workspace: ResourceId | str) -> list[dict[str, Any]]:
        return list(self._list(f"{_id(workspace)}/onlineEndpoints"))

    def deployments(self, endpoint_id: str) -> list[dict[str, Any]]:
        return list(self._list(f"{endpoint_id}/deployments"))

    def active_jobs(self, workspace: ResourceId | str) -> list[dict[str, Any]]:
        jobs = self._list(f"{_id(workspace)}/jobs", listViewType="ActiveOnly")
        return [j for j in jobs if str((j.get("properties") or {}).get("status", "")).lower()
                not in TERMINAL_JOB_STATUSES]

    # writes --------------------------------------------------------------------------------------
    def put(self, resource_id: str, body: dict[str, Any]) -> Started:
        """PUT a definition; raises HttpResponseError (mapped) when ARM refuses it."""
        response = self._send("PUT", resource_id, body=body)
        return Started(response.status_code, response.headers.get("Azure-AsyncOperation"), "async", _json(response))

    def delete(self, resource_id: str, **params: str) -> Started:
        """DELETE (for computes `underlyingResourceAction` Delete or Detach); 404 counts as already gone."""
        try:
            response = self._send("DELETE", resource_id, params=params or None)
        except ResourceNotFoundError:
            return Started(404, None, None)
        return _started_by_location(response)

    def cancel_job(self, job_id: str) -> Started:
        return _started_by_location(self._send("POST", f"{job_id}/cancel"))

    def follow(self, url: str, kind: str) -> Progress:
        """One GET of an operation URL (no pipeline retries: the orchestrator's timer is the wait)."""
        if not url.lower().startswith(self.arm_endpoint.lower() + "/"):
            return Progress(FAILED, f"the operation URL is not on {self.arm_endpoint}; not followed")
        try:
            response = self._pipeline.send_request(HttpRequest("GET", url), retry_total=0)
        except (ServiceRequestError, ServiceResponseError) as exc:
            return Progress(RUNNING, describe_azure_error(exc))
        code = response.status_code
        if code in _TRANSIENT or code == 202:
            return Progress(RUNNING)
        if code >= 400:
            return Progress(FAILED, _error_text(_json(response), code))
        if kind == "location":
            return Progress(SUCCEEDED)
        body = _json(response) or {}
        status = _ASYNC_DONE.get(str(body.get("status", "")).lower(), RUNNING)
        return Progress(status, _error_text(body, code) if status == FAILED else None)


def _id(workspace: ResourceId | str) -> str:
    return workspace.id if isinstance(workspace, ResourceId) else workspace


def _started_by_location(response: Any) -> Started:
    location = response.headers.get("Location") or response.headers.get("Azure-AsyncOperation")
    kind = "location" if response.headers.get("Location") else "async"
    return Started(response.status_code, location if response.status_code == 202 else None, kind)


def _json(response: Any) -> dict[str, Any] | None:
    try:
        value = response.json()
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _error_text(body: dict[str, Any] | None, status: int) -> str:
    error = (body or {}).get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return redact(f"{error.get('code') or status}: {error.get('message') or ''}".strip())[:500]
    return f"HTTP {status}"


def refusal(exc: HttpResponseError) -> str:
    """A secret-free one-line reason for an ARM refusal."""
    return redact(describe_azure_error(exc))[:500]
