"""OpenTelemetry for the app: Azure Monitor export when configured, Azure SDK calls as dependencies, invocation spans.

Follows "Use OpenTelemetry with Azure Functions" (learn.microsoft.com/azure/azure-functions/opentelemetry-howto,
Python): host.json `"telemetryMode": "OpenTelemetry"`, `azure-monitor-opentelemetry` in requirements.txt,
`configure_azure_monitor()` once at start, app setting `PYTHON_ENABLE_OPENTELEMETRY=true` so the worker streams its
telemetry itself and puts each invocation under the host's trace context. Entra (managed identity) ingestion comes
from the existing `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` setting, which the Azure Monitor exporter reads.
The telemetry packages are imported only when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set: cold start without
it pays only for `opentelemetry.trace`, which the Durable SDK imports anyway.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace

CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
LOGGER_NAME = "aml_lifecycle"  # only the app's own loggers are exported as traces (the SDK's HTTP logs are spans)
TRACER_NAME = "aml_lifecycle"
# Instrumentations the distro enables by default for libraries this app does not use (nothing to instrument).
_UNUSED_INSTRUMENTATIONS = ("django", "fastapi", "flask", "psycopg2")

_lock = threading.Lock()
_state = {"configured": False}


def configure(environ: Mapping[str, str] | None = None) -> bool:
    """Once per process: `configure_azure_monitor()` when the connection string is set; True if this call did it.

    Skipped when a tracer provider is already installed (the worker configured Azure Monitor itself, or a test
    installed its own): configuring twice would export everything twice.
    """
    environ = os.environ if environ is None else environ
    if not environ.get(CONNECTION_SETTING):
        return False
    with _lock:
        if _state["configured"] or has_tracer_provider():
            return False
        from azure.monitor.opentelemetry import configure_azure_monitor

        # As the Functions Python worker does when it configures the distro: the cloud role (name, instance) is
        # the function app, read by opentelemetry-resource-detector-azure's Functions detector.
        os.environ.setdefault("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", "azure_functions")
        configure_azure_monitor(
            logger_name=LOGGER_NAME,
            instrumentation_options={name: {"enabled": False} for name in _UNUSED_INSTRUMENTATIONS},
        )
        trace_azure_sdk()
        _state["configured"] = True
        return True


def has_tracer_provider() -> bool:
    """True when an SDK tracer provider (not the API's no-op/proxy default) is installed globally."""
    provider = trace.get_tracer_provider()
    return type(provider).__name__ not in ("ProxyTracerProvider", "NoOpTracerProvider")


def trace_azure_sdk() -> None:
    """Every Azure SDK call (ARM, Table Storage, Event Grid) becomes a span: azure-core's OpenTelemetry plugin.

    azure-core `settings.tracing_implementation` (azure-core-tracing-opentelemetry); the distro's `azure_sdk`
    instrumentation sets the same. The pipeline's DistributedTracingPolicy then opens one CLIENT span per HTTP
    call, which Application Insights stores as a dependency.
    """
    from azure.core.settings import settings
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan

    settings.tracing_implementation = OpenTelemetrySpan


@contextlib.contextmanager
def invocation_span(function_name: str, trigger: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """The span of one function invocation (`faas.*` semantic conventions); exceptions are recorded and re-raised.

    INTERNAL kind: under the Functions host the worker makes the host's invocation (the `requests` row) current,
    so this span nests under it instead of duplicating it; locally it is the root of the invocation's trace.
    """
    tracer = trace.get_tracer(TRACER_NAME)
    base = {"faas.name": function_name, "faas.trigger": trigger, **(attributes or {})}
    with tracer.start_as_current_span(function_name, kind=trace.SpanKind.INTERNAL, attributes=base) as span:
        yield span
