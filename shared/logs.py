"""Structured log fields (Application Insights custom dimensions) and the one line logged per state change."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

# Keyword → custom dimension. The first five are the ones docs/operations.md queries by; `kind` names the line
# (e.g. `ledger.transition`, `move.step`) so a KQL query picks its lines without parsing message text.
DIMENSIONS = {
    "kind": "kind",
    "workspace_id": "workspaceId",
    "event_id": "eventId",
    "move_id": "moveId",
    "alert_id": "alertId",
    "state": "state",
    "previous_state": "previousState",
    "step": "step",
    "status": "status",
    "alert_type": "alertType",
    "target_id": "targetId",
    "purge_after": "purgeAfter",
}
NAMES = frozenset(DIMENSIONS.values())
MAX_VALUE = 1024  # a dimension value is an id or a state; anything longer is cut

transitions = logging.getLogger("aml_lifecycle.transitions")


def fields(**values: Any) -> dict[str, str]:
    """The `extra=` mapping of a log call: {camelCase dimension: str}, None values left out.

    Keywords are the keys of :data:`DIMENSIONS` (TypeError on any other, so a typo cannot silently drop a
    field). The same fields are set as attributes of the current OpenTelemetry span when one is recording, so
    the span of the event, request or activity carries them too. Values are ids and states, never secrets.
    """
    extra: dict[str, str] = {}
    for key, value in values.items():
        if key not in DIMENSIONS:
            raise TypeError(f"unknown log field {key!r}; known: {', '.join(DIMENSIONS)}")
        if value is None:
            continue
        text = value.value if isinstance(value, enum.Enum) else value
        extra[DIMENSIONS[key]] = str(text)[:MAX_VALUE]
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({name: value for name, value in extra.items() if name != "kind"})
    return extra


def of_record(record: logging.LogRecord) -> dict[str, str]:
    """The dimensions a log record carries (what the dev host's JSON lines and the tests read)."""
    return {name: getattr(record, name) for name in NAMES if hasattr(record, name)}


def ledger_transition(old: Any, new: Any) -> None:
    """One line when a retention ledger row is created or changes state (`old`/`new`: LedgerRow or None)."""
    before = getattr(old, "state", None)
    if new is None or (old is not None and before == new.state):
        return
    transitions.info(
        "ledger %s: %s -> %s", new.workspace_id, _value(before) or "(none)", _value(new.state),
        extra=fields(kind="ledger.transition", workspace_id=new.workspace_id, event_id=new.last_event_id,
                     state=new.state, previous_state=before, purge_after=_iso(new.purge_after)),
    )


def move_snapshot(record: Any) -> tuple[str | None, dict[str, str]]:
    """(state, {step name: status}) of a move record, taken before a change, for :func:`move_changes`."""
    if record is None:
        return None, {}
    return record.state, {s["name"]: s["status"] for s in record.steps}


def move_changes(before: tuple[str | None, Mapping[str, str]], record: Any) -> None:
    """One line per step whose status changed and one when the move's state changed, after a write."""
    state, steps = before
    common = {"move_id": record.move_id, "workspace_id": record.workspace_id}
    for step in record.steps:
        if steps.get(step["name"]) != step["status"]:
            transitions.info(
                "move %s step %s: %s", record.move_id, step["name"], step["status"],
                extra=fields(kind="move.step", step=step["name"], status=step["status"], state=record.state,
                             **common),
            )
    if state != record.state:
        transitions.info(
            "move %s: %s -> %s", record.move_id, state or "(new)", record.state,
            extra=fields(kind="move.state", state=record.state, previous_state=state,
                         target_id=record.target_resource_group_id, **common),
        )


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if hasattr(moment, "isoformat") else moment


def _value(state: Any) -> Any:
    return state.value if isinstance(state, enum.Enum) else state
