"""ARM validateMoveResources / moveResources: start one (202 + Location, no waiting) and poll its Location once."""

from __future__ import annotations

import email.utils
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core import ARMPipelineClient

from shared.azure.arm_ids import ResourceGroupId
from shared.errors import describe_azure_error, redact
from shared.untrusted_input import ascii_int

RESOURCES_API_VERSION = "2025-04-01"
VALIDATE, MOVE = "validateMoveResources", "moveResources"

RUNNING, THROTTLED, TRANSIENT = "running", "throttled", "transient"
SUCCEEDED, FAILED = "succeeded", "failed"
WAITING = frozenset({RUNNING, THROTTLED, TRANSIENT})

# A 5xx whose ARM error code says "try again" is a hiccup of the poll, not the operation's verdict.
_TRANSIENT_STATUS = frozenset({408, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset(
    {"internalservererror", "serviceunavailable", "gatewaytimeout", "badgateway", "servertimeout", "requesttimeout"}
)
_MAX_MESSAGE = 1000
_MAX_REASONS = 50


@dataclass(frozen=True)
class ArmFailure:
    """ARM's verdict on a failed operation: its code and message, and the real reasons from `error.details`."""

    code: str
    message: str
    reasons: tuple[dict[str, str], ...] = ()

    @classmethod
    def from_body(cls, status: int, body: Any) -> "ArmFailure":
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(f"HTTP{status}", f"ARM answered {status} without an error body")
        reasons = _flatten(error.get("details") or [])[:_MAX_REASONS]
        if not reasons:  # ARM's own error is then the one reason, on the resource it names
            reasons = [{k: _clean(str(error[k])) for k in ("code", "target", "message") if error.get(k) is not None}]
        return cls(str(error.get("code") or f"HTTP{status}"), _clean(str(error.get("message") or "")), tuple(reasons))

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "reasons": [dict(r) for r in self.reasons]}


@dataclass(frozen=True)
class OperationStatus:
    """Where a long-running ARM operation stands after one request."""

    status: str  # running | throttled | transient | succeeded | failed
    location: str | None = None
    retry_after: int | None = None
    error: dict[str, Any] | None = None
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def waiting(self) -> bool:
        return self.status in WAITING

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "location": self.location, "retryAfter": self.retry_after}
        if self.error is not None:
            body["error"] = self.error
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extra)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "OperationStatus":
        extra = {"lockWait": True} if body.get("lockWait") else {}
        return cls(body["status"], body.get("location"), body.get("retryAfter"), body.get("error"), body.get("detail"),
                   extra)


def start_operation(
    pipeline: ARMPipelineClient,
    kind: str,
    source: ResourceGroupId,
    target: ResourceGroupId,
    resources: list[str],
    *,
    arm_endpoint: str,
) -> OperationStatus:
    """POST validateMoveResources / moveResources and return at once with the Location to poll.

    Throttling and 5xx are retried by the pipeline within its bounds. A 429 that persists comes back as
    `throttled` without a Location (POST again after `retry_after`); a 5xx that persists raises, so the caller's
    activity retry decides. Any other 4xx is ARM's verdict and comes back as `failed`.
    """
    if kind not in (VALIDATE, MOVE):
        raise ValueError(f"unknown operation {kind!r}")
    request = HttpRequest(
        "POST",
        pipeline.format_url(f"{source.id}/{kind}"),
        params={"api-version": RESOURCES_API_VERSION},
        json={"resources": list(resources), "targetResourceGroup": target.id},
    )
    response = pipeline.send_request(request)
    if response.status_code == 202:
        location = response.headers.get("Location") or response.headers.get("Azure-AsyncOperation")
        if not location:
            return OperationStatus(
                FAILED, error=_failure("NoLocation", f"ARM accepted {kind} without a Location to poll")
            )
        if not is_arm_url(location, arm_endpoint):
            return OperationStatus(
                FAILED,
                error=_failure("UntrustedLocation", f"ARM's Location for {kind} is not on {arm_endpoint}; not polled"),
            )
        return OperationStatus(RUNNING, location=location, retry_after=retry_after_seconds(response))
    if response.status_code in (200, 204):
        return OperationStatus(SUCCEEDED)
    if response.status_code == 429:
        # Still throttled after the pipeline's bounded retries (or a Retry-After past their cap): the caller waits
        # (a durable timer in the move) and POSTs again; there is no Location yet.
        return OperationStatus(THROTTLED, retry_after=retry_after_seconds(response),
                               detail=f"ARM throttled {kind} (429)")
    if response.status_code >= 500:
        raise HttpResponseError(response=response, message=f"{kind}: ARM answered {response.status_code}")
    return OperationStatus(FAILED, error=ArmFailure.from_body(response.status_code, _json(response)).to_json())


def poll_operation(pipeline: ARMPipelineClient, location: str, *, arm_endpoint: str) -> OperationStatus:
    """One GET of the operation's Location, without the pipeline's retries: the orchestrator's timer is the wait."""
    if not is_arm_url(location, arm_endpoint):
        return OperationStatus(
            FAILED, error=_failure("UntrustedLocation", f"the operation URL is not on {arm_endpoint}; not polled")
        )
    try:
        response = pipeline.send_request(HttpRequest("GET", location), retry_total=0)
    except (ServiceRequestError, ServiceResponseError) as exc:
        return OperationStatus(TRANSIENT, location=location, detail=describe_azure_error(exc))
    return classify_poll(response, location, arm_endpoint=arm_endpoint)


def classify_poll(response: HttpResponse, location: str, *, arm_endpoint: str) -> OperationStatus:
    status = response.status_code
    retry_after = retry_after_seconds(response)
    if status == 202:
        newer = response.headers.get("Location")
        return OperationStatus(
            RUNNING, location=newer if newer and is_arm_url(newer, arm_endpoint) else location, retry_after=retry_after
        )
    if status in (200, 201, 204):
        return OperationStatus(SUCCEEDED, location=location)
    if status == 429:
        return OperationStatus(
            THROTTLED, location=location, retry_after=retry_after, detail="ARM throttled the poll (429)"
        )
    failure = ArmFailure.from_body(status, _json(response))
    if status in _TRANSIENT_STATUS and (failure.code.lower() in _TRANSIENT_CODES or failure.code.startswith("HTTP")):
        return OperationStatus(
            TRANSIENT, location=location, retry_after=retry_after, detail=f"{status} {failure.code}: {failure.message}"
        )
    return OperationStatus(FAILED, location=location, error=failure.to_json())


def next_poll_delay(status: OperationStatus, *, fallback: int, minimum: int, maximum: int) -> int:
    """Seconds until the next poll: ARM's Retry-After when given, else the fallback, kept within [minimum, maximum]."""
    wanted = status.retry_after if status.retry_after is not None else fallback
    return max(minimum, min(maximum, wanted))


def retry_after_seconds(response: HttpResponse) -> int | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    seconds = ascii_int(value)  # not str.isdigit(): `²` (a Latin-1 header byte) passes it and int() raises
    if seconds is not None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0, int((moment - datetime.now(timezone.utc)).total_seconds()))


def is_arm_url(url: str, arm_endpoint: str) -> bool:
    """Only URLs on the configured ARM endpoint get our bearer token."""
    got, want = urllib.parse.urlsplit(url), urllib.parse.urlsplit(arm_endpoint)
    return (
        got.scheme == "https"
        and (got.hostname or "").lower() == (want.hostname or "").lower()
        and got.port == want.port
    )


def _flatten(details: list[Any], parent_target: str | None = None) -> list[dict[str, str]]:
    """error.details, nested ones flattened: one reason per leaf, carrying the nearest target."""
    found: list[dict[str, str]] = []
    for detail in details:
        if not isinstance(detail, dict):
            continue
        target = detail.get("target") or parent_target
        if detail.get("details"):
            found.extend(_flatten(detail["details"], target))
            continue
        leaf = {"code": detail.get("code"), "target": target, "message": detail.get("message")}
        found.append({k: _clean(str(v)) for k, v in leaf.items() if v is not None})
    return found


def _failure(code: str, message: str) -> dict[str, Any]:
    return ArmFailure(code, message).to_json()


def _json(response: HttpResponse) -> Any:
    try:
        return response.json()
    except Exception:  # empty or non-JSON body
        return None


def _clean(text: str) -> str:
    text = redact(text)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
