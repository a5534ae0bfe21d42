"""A validation ARM did not finish within the HTTP bound: its durable input (async request-reply), a poll, the end."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared.azure.clients import AzureClients
from shared.moves import operations as ops
from shared.moves.orchestrations import VALIDATION_FINISH as FINISH  # noqa: F401  (re-exported: indexed names)
from shared.moves.orchestrations import VALIDATION_ORCHESTRATOR as ORCHESTRATOR  # noqa: F401
from shared.moves.orchestrations import VALIDATION_POLL as POLL  # noqa: F401
from shared.moves.preflight.arm_validation import verdict
from shared.moves.preflight.validation import MoveReport, settle
from shared.moves.request import MoveRequest

ID_PREFIX = "validation-"


def new_validation_id() -> str:
    return ID_PREFIX + uuid.uuid4().hex


def is_validation_id(text: str) -> bool:
    rest = (text or "")[len(ID_PREFIX):]
    return (text or "").startswith(ID_PREFIX) and len(rest) == 32 and all(c in "0123456789abcdef" for c in rest)


@dataclass(frozen=True)
class ValidationTiming:
    """Seconds; ARM says validation "may take several minutes"; identical 5xx answers end it as Failed."""

    min_poll_seconds: int = 5
    max_poll_seconds: int = 60
    deadline_seconds: int = 1800
    identical_failure_limit: int = 3

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> "ValidationTiming":
        known = cls.__dataclass_fields__
        return cls(**{k: int(v) for k, v in (body or {}).items() if k in known})


DEFAULT_TIMING = ValidationTiming()


def orchestration_input(request: MoveRequest, report: MoveReport, timing: ValidationTiming | None = None) -> dict:
    """What the validation orchestration needs: the request, the report so far and ARM's operation URL."""
    return {
        "request": request.to_json(),
        "report": report.to_json(),
        "location": report.arm_validation["location"],
        "timing": (timing or DEFAULT_TIMING).__dict__,
    }


def poll(clients: AzureClients, location: str) -> dict[str, Any]:
    """One GET of the operation URL (no retries: the orchestration's timer is the wait)."""
    return ops.poll_operation(clients.arm_pipeline(), location, arm_endpoint=clients.settings.arm_endpoint).to_json()


def finish(clients: AzureClients, payload: dict[str, Any], operation: dict[str, Any],
           validation_id: str = "") -> dict[str, Any]:
    """The final report: ARM's verdict in, ready recomputed, a group this validation created removed if not ready
    (only when the starter's record says it created it: validation_admission.py)."""
    from dataclasses import replace

    from shared.moves.preflight.validation_admission import forget_validation, recorded_group_created

    request = MoveRequest.from_json(payload["request"])
    report = MoveReport.from_json(payload["report"])
    report = replace(report, target_resource_group_created=report.target_resource_group_created
                     and recorded_group_created(clients, validation_id))
    status = ops.OperationStatus.from_json(operation)
    arm = verdict(status) if status.status in (ops.SUCCEEDED, ops.FAILED) else {
        "status": "error", "error": operation.get("error") or {"code": "ValidationTimedOut",
                                                               "message": operation.get("detail") or "", "reasons": []}}
    ready = not any(c.blocks for c in report.checks) and arm["status"] == "succeeded"
    done = MoveReport(ready, report.checks, arm, report.resources, report.workspace_location,
                      report.target_resource_group_created)
    settled = settle(clients, request, done).to_json()
    if validation_id:
        forget_validation(clients, validation_id)
    return settled
