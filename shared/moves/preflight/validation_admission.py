"""The validation orchestration trusts no input: the starter records what it started, the orchestration's first
activity re-checks its input against that record and the allow-list before any ARM call."""

from __future__ import annotations

import json
import logging
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.azure import tables
from shared.azure.clients import AzureClients
from shared.errors import ApiError, redact
from shared.moves.request import MoveRequest, check_allowed
from shared.moves.store import utcnow
from shared.settings import Settings

log = logging.getLogger("aml_lifecycle.moves")
PARTITION = "validations"  # WorkspaceMoves rows of running validations (RowKey = the validation id)


def _fingerprint(payload: dict[str, Any]) -> dict[str, Any]:
    report = payload.get("report") or {}
    return {"request": payload.get("request"), "location": payload.get("location"),
            "created": bool(report.get("targetResourceGroupCreated"))}


def record_validation(clients: AzureClients, validation_id: str, payload: dict[str, Any]) -> None:
    """The starter's record of the validation it starts: the request, ARM's operation URL, whether it created the
    target group (the only thing the orchestration may delete). Written before start_new."""
    entity = {"PartitionKey": PARTITION, "RowKey": validation_id, "StartedAt": utcnow(),
              "Fingerprint": json.dumps(_fingerprint(payload), sort_keys=True)}
    tables.table(clients.tables(), tables.MOVES).create_entity(entity)


def recorded_group_created(clients: AzureClients, validation_id: str) -> bool:
    """Whether the starter recorded that this validation created the target group (False without a record)."""
    try:
        entity = tables.table(clients.tables(), tables.MOVES).get_entity(PARTITION, validation_id)
    except ResourceNotFoundError:
        return False
    return bool(json.loads(entity.get("Fingerprint") or "{}").get("created"))


def admit_validation(clients: AzureClients, settings: Settings, validation_id: str, payload: Any) -> dict[str, Any]:
    """`{"admitted": bool, "code", "reason"}`: the input parses, its target is in AML_LIFECYCLE_ALLOWED_TARGETS
    now, and it is exactly what the starter recorded for this validation id. Reads only."""
    try:
        request = MoveRequest.from_json(payload["request"])
        check_allowed(request, settings)
    except ApiError as exc:
        return _refused("TargetNotAllowed" if exc.status == 403 else "InvalidInput", exc.message)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return _refused("InvalidInput", f"the orchestration input is not a validation ({type(exc).__name__})")
    try:
        entity = tables.table(clients.tables(), tables.MOVES).get_entity(PARTITION, validation_id)
    except ResourceNotFoundError:
        return _refused("ValidationNotRecorded", f"no validation {validation_id} was started by POST /api/moves/validate")
    if json.loads(entity.get("Fingerprint") or "{}") != json.loads(json.dumps(_fingerprint(payload), sort_keys=True)):
        return _refused("InputMismatch", f"the input differs from what was recorded for validation {validation_id}")
    return {"admitted": True, "code": "", "reason": ""}


def _refused(code: str, reason: str) -> dict[str, Any]:
    reason = redact(reason)[:500]
    log.warning("validation orchestration refused (%s): %s", code, reason)
    return {"admitted": False, "code": code, "reason": reason}


def forget_validation(clients: AzureClients, validation_id: str) -> None:
    """Remove the record once the validation has its report (best effort; a retried finish finds none)."""
    try:
        tables.table(clients.tables(), tables.MOVES).delete_entity(PARTITION, validation_id)
    except ResourceNotFoundError:
        pass
