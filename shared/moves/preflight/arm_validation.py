"""ARM validateMoveResources within a bound: start it, poll until it ends or the bound is near, never past it."""

from __future__ import annotations

import time
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError

from shared.azure.arm_ids import ResourceGroupId
from shared.azure.bounded_retry import MAX_RETRY_AFTER_SECONDS
from shared.azure.clients import AzureClients
from shared.errors import describe_azure_error
from shared.moves import operations as ops

# How long POST /api/moves/validate waits for ARM before answering 202 (Azure cuts HTTP triggers at 230 s).
ARM_VALIDATE_BOUND_SECONDS = 45.0
DEFAULT_POLL_SECONDS = 5.0


def validate_within(
    clients: AzureClients,
    source: ResourceGroupId,
    target: ResourceGroupId,
    resources: list[str],
    *,
    bound: float | None = None,
    poll_seconds: float | None = None,
) -> dict[str, Any]:
    """`{"status": succeeded|failed|throttled|error|running, "error"?: {code, message, reasons},
    "location"?: str}`; `running` (with the operation's Location) when ARM has not answered within `bound` seconds.
    Never raises for an Azure fault."""
    deadline = time.monotonic() + (ARM_VALIDATE_BOUND_SECONDS if bound is None else bound)
    pipeline, endpoint = clients.arm_pipeline(), clients.settings.arm_endpoint
    try:
        status = ops.start_operation(pipeline, ops.VALIDATE, source, target, list(resources), arm_endpoint=endpoint)
    except HttpResponseError as exc:  # 429 / 5xx that outlasted the bounded retries
        failure = ops.ArmFailure.from_body(exc.status_code or 0, _json(exc)).to_json()
        if exc.status_code == 429:
            failure["message"] = f"ARM kept throttling the validation after bounded retries: {failure['message']}"
            return {"status": "throttled", "error": failure}
        return {"status": "error", "error": failure}
    except AzureError as exc:
        return {"status": "error", "error": {"code": type(exc).__name__, "message": describe_azure_error(exc),
                                             "reasons": []}}
    if status.status == ops.THROTTLED and not status.location:  # 429 past the bounded retries: not waited for here
        message = f"ARM kept throttling the validation (Retry-After {status.retry_after}s); validate again later"
        return {"status": "throttled", "error": {"code": "TooManyRequests", "message": message, "reasons": []}}
    while status.waiting:
        delay = min(MAX_RETRY_AFTER_SECONDS, status.retry_after or poll_seconds or DEFAULT_POLL_SECONDS)
        if time.monotonic() + delay >= deadline:
            return {"status": "running", "location": status.location}
        time.sleep(delay)
        status = ops.poll_operation(pipeline, status.location or "", arm_endpoint=endpoint)
    return verdict(status)


def verdict(status: ops.OperationStatus) -> dict[str, Any]:
    """The report's `armValidation` for a finished operation."""
    if status.status == ops.SUCCEEDED:
        return {"status": "succeeded"}
    return {"status": "failed", "error": status.error or {"code": "ValidationFailed", "message": "", "reasons": []}}


def _json(exc: HttpResponseError) -> Any:
    try:
        return exc.response.json() if exc.response is not None else None
    except Exception:  # an empty or non-JSON error body
        return None
