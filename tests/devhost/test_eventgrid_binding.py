"""The dev host hands an Event Grid function what the Python worker would, chosen by the parameter's annotation."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from local.devhost.app_loader import IndexedFunction
from local.devhost.eventgrid import decode_event

EVENT = {"id": "evt-1", "topic": "/subscriptions/11111111-1111-4111-8111-111111111111", "subject": "/x",
         "eventType": "Microsoft.Resources.ResourceDeleteSuccess", "eventTime": "2026-12-03T10:00:00+01:00",
         "data": {"a": 1}, "dataVersion": "1"}


def indexed(function) -> IndexedFunction:
    return IndexedFunction("f", {"type": "eventGridTrigger", "name": "event", "direction": "in"}, [], function)


def as_text(event: str) -> None: ...


def as_bytes(event: bytes) -> None: ...


def as_event(event: func.EventGridEvent) -> None: ...


def test_a_str_parameter_gets_the_events_json_text_as_the_generic_binding_gives_it():
    text = decode_event(indexed(as_text), EVENT)
    assert isinstance(text, str) and json.loads(text) == EVENT
    assert json.loads(decode_event(indexed(as_bytes), EVENT).decode()) == EVENT


def test_an_event_grid_event_parameter_fails_on_an_offset_time_as_the_library_converter_does():
    # azure-functions 1.26.0 meta._parse_datetime: only Z / ±00:00 / naive formats; the real worker fails the
    # invocation the same way, so the extension answers 500 and Event Grid retries.
    with pytest.raises(ValueError):
        decode_event(indexed(as_event), EVENT)
    decoded = decode_event(indexed(as_event), {**EVENT, "eventTime": "2026-12-03T10:00:00Z"})
    assert isinstance(decoded, func.EventGridEvent) and decoded.id == "evt-1"
