"""OpenTelemetry for the app: Azure Monitor export when configured, Azure SDK calls as dependencies, invocation spans.

Follows "Use OpenTelemetry with Azure Functions" (learn.microsoft.com/azure/azure-functions/opentelemetry-howto,
Python): host.json `"telemetryMode": "OpenTelemetry"`, `azure-monitor-opentelemetry` in requirements.txt,
`configure_azure_monitor()` once at start, app setting `PYTHON_ENABLE_OPENTELEMETRY=true` so the worker streams its
telemetry itself and puts each invocation under the host's trace context. Entra (managed identity) ingestion comes
from the existing `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` setting, which the Azure Monitor exporter reads.
The telemetry packages are imported only when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set: cold start without
it pays only for `opentelemetry.trace`, which the Durable SDK imports anyway. With it, the distro (~0.3 s of imports:
the exporters, azure-identity, the OpenTelemetry SDK) is loaded on a background thread started at import, so the
worker's indexing does not wait for it; the first invocation span waits until it is configured, so nothing the app
emits is lost (bench/import_cost.py prints both times).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace

from shared.errors import redact

CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
LOGGER_NAME = "aml_lifecycle"  # only the app's own loggers are exported as traces (the SDK's HTTP logs are spans)
TRACER_NAME = "aml_lifecycle"
# Instrumentations the distro enables by default for libraries this app does not use (nothing to instrument).
_UNUSED_INSTRUMENTATIONS = ("django", "fastapi", "flask", "psycopg2")

# How long an invocation waits for Azure Monitor still being configured before it runs untraced (the import takes
# well under a second; this bounds a hung import, never a normal start).
READY_WAIT_SECONDS = 30.0

_lock = threading.Lock()
_state = {"configured": False, "late": False}
_ready = threading.Event()
log = logging.getLogger("aml_lifecycle.telemetry")


def configure(environ: Mapping[str, str] | None = None) -> bool:
    """Once per process: starts `configure_azure_monitor()` on a background thread when the connection string is
    set; True if this call started it (`wait_until_ready` blocks until it is done).

    Skipped when a tracer provider is already installed (the worker configured Azure Monitor itself, or a test
    installed its own): configuring twice would export everything twice.
    """
    environ = os.environ if environ is None else environ
    if not environ.get(CONNECTION_SETTING):
        return False
    with _lock:
        if _state["configured"] or has_tracer_provider():
            return False
        _state["configured"] = True
    # As the Functions Python worker does when it configures the distro: the cloud role (name, instance) is the
    # function app, read by opentelemetry-resource-detector-azure's Functions detector.
    os.environ.setdefault("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", "azure_functions")
    threading.Thread(target=_configure_azure_monitor, name="aml-lifecycle-azure-monitor", daemon=True).start()
    return True


def _configure_azure_monitor() -> None:
    try:
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(
            logger_name=LOGGER_NAME,
            instrumentation_options={name: {"enabled": False} for name in _UNUSED_INSTRUMENTATIONS},
        )
        trace_azure_sdk()
    except Exception as exc:  # noqa: BLE001 - telemetry must never stop the app; the host still has its own logs
        # The error's text, redacted, and no traceback: a connection-string parse error may quote the string.
        log.error("Azure Monitor could not be configured (%s: %s): the app runs on, its spans and logs are not "
                  "exported; check APPLICATIONINSIGHTS_CONNECTION_STRING and the deployment's telemetry packages",
                  type(exc).__name__, redact(str(exc)))
    finally:
        _ready.set()


def wait_until_ready(timeout: float | None = None) -> bool:
    """Blocks until Azure Monitor, if `configure` started it, is configured (or gave up); at most `timeout` seconds,
    once: after a timeout (logged) it no longer holds anyone up. True when there is nothing left to wait for."""
    timeout = READY_WAIT_SECONDS if timeout is None else timeout
    if not _state["configured"] or _ready.is_set():
        return True
    if _state["late"]:
        return False
    if _ready.wait(timeout):
        return True
    with _lock:
        first, _state["late"] = not _state["late"], True
    if first:
        log.warning("Azure Monitor is still being configured after %.0f s: invocations run without it meanwhile",
                    timeout)
    return False


async def wait_until_ready_async(timeout: float | None = None) -> bool:
    """`wait_until_ready` for a coroutine: waits on a worker thread, so the event loop (the worker's) keeps serving."""
    if not _state["configured"] or _ready.is_set():
        return True
    return await asyncio.to_thread(wait_until_ready, timeout)


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
    Waits (at most READY_WAIT_SECONDS) for Azure Monitor still being configured, so the span is exported.
    """
    wait_until_ready()
    tracer = trace.get_tracer(TRACER_NAME)
    base = {"faas.name": function_name, "faas.trigger": trigger, **(attributes or {})}
    with tracer.start_as_current_span(function_name, kind=trace.SpanKind.INTERNAL, attributes=base) as span:
        yield span
