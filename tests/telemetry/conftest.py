"""Fixtures of the telemetry tests: an OpenTelemetry in-memory exporter behind the global tracer provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanProcessor

from tests.moves.conftest import move_env, run_move  # noqa: F401  (the move fixtures, reused here)


class _Switch(SpanProcessor):
    """A span processor forwarding to the in-memory exporter only while a test holds the `spans` fixture."""

    def __init__(self) -> None:
        self.exporter = None

    def on_end(self, span: Any) -> None:
        if self.exporter is not None:
            self.exporter.export((span,))


_SWITCH = _Switch()


@pytest.fixture(scope="session")
def tracer_provider() -> Any:
    """The process's tracer provider (set once per process, as OpenTelemetry allows), with the switch on it."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from shared import telemetry

    if not telemetry.has_tracer_provider():
        provider = TracerProvider()
        provider.add_span_processor(_SWITCH)
        trace.set_tracer_provider(provider)
    return trace.get_tracer_provider()


@pytest.fixture
def spans(tracer_provider: Any) -> Iterator[Any]:
    """An InMemorySpanExporter receiving every span ended during the test, with Azure SDK tracing switched on."""
    from azure.core.settings import settings
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from shared import telemetry

    exporter = InMemorySpanExporter()
    _SWITCH.exporter = exporter
    previous = settings.tracing_implementation()
    telemetry.trace_azure_sdk()
    try:
        yield exporter
    finally:
        _SWITCH.exporter = None
        settings.tracing_implementation = previous
