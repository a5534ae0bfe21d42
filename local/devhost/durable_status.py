"""The Durable HTTP API's status payload for an instance record."""

from __future__ import annotations

import json
from typing import Any

from local.devhost.durable_history import public_history
from local.devhost.durable_store import InstanceRecord


def _value(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _time(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def status_payload(record: InstanceRecord, *, show_input: bool = True, history: list[dict] | None = None,
                   show_history_output: bool = False) -> dict:
    """name, instanceId, runtimeStatus, input, customStatus, output, createdTime, lastUpdatedTime[, historyEvents]."""
    payload = {
        "name": record.name,
        "instanceId": record.instance_id,
        "runtimeStatus": record.runtime_status,
        "input": _value(record.input) if show_input else None,
        "customStatus": _value(record.custom_status),
        "output": _value(record.output),
        "createdTime": _time(record.created_time),
        "lastUpdatedTime": _time(record.last_updated_time),
    }
    if history is not None:
        payload["historyEvents"] = public_history(history, show_history_output)
    return payload
