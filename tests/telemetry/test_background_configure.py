"""Azure Monitor configured off the import path: the first invocation waits for it, a failure never stops the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

CONNECTION = {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
              "IngestionEndpoint=https://127.0.0.1:9/", "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
              # the default rate-limited sampler has no budget yet for a process's first trace
              "OTEL_TRACES_SAMPLER": "always_on"}

# Each probe starts with this: the distro's configure call is replaced before function_app starts it, and held at
# a gate until the probe sets it; then it configures for real, or fails (`configure`).
HELD = """
import threading
import azure.monitor.opentelemetry as distro
gate, real = threading.Event(), distro.configure_azure_monitor
def held(**options):
    gate.wait(60)
    {configure}
distro.configure_azure_monitor = held
import function_app
"""
CONFIGURES = "real(**options)"

INVOCATION = """
from shared import telemetry
finished, recording = threading.Event(), []
def invoke():
    with telemetry.invocation_span("health", "http") as span:
        recording.append(span.is_recording())
    finished.set()
threading.Thread(target=invoke).start()
early = finished.wait(0.5)
gate.set()
finished.wait(60)
print(early, recording, telemetry.has_tracer_provider())
"""

ASYNC_INVOCATION = """
import asyncio
from handlers.telemetry import traced
from opentelemetry import trace
from shared import telemetry
telemetry.READY_WAIT_SECONDS = 5
@traced("http")
async def invoke():
    return trace.get_current_span().is_recording()
async def main():
    waiting = asyncio.create_task(invoke())
    await asyncio.sleep(0)  # the invocation starts and waits for Azure Monitor
    gate.set()  # only reached if that wait left the event loop free
    return await waiting
print(asyncio.run(main()))
"""

FIRST_IMPORT = """
from handlers.cold_start import domain_imports
entered = threading.Event()
def first_run():  # an orchestrator's first replay: it imports its body under the guard, with no span before it
    with domain_imports:
        entered.set()
threading.Thread(target=first_run).start()
early = entered.wait(0.5)
gate.set()
print(early, entered.wait(60))
"""


def _run(probe: str, configure: str = CONFIGURES) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATIONINSIGHTS_")}
    env.update(CONNECTION)
    return subprocess.run([sys.executable, "-c", HELD.format(configure=configure) + probe], cwd=REPO_ROOT, env=env,
                          check=True, capture_output=True, text=True, timeout=120)


def test_an_invocation_arriving_before_azure_monitor_is_configured_waits_and_is_exported():
    out = _run(INVOCATION)
    # not finished while the configuration was held; then its span was a recording (exported) one
    assert out.stdout.strip().splitlines()[-1] == "False [True] True"


def test_azure_monitor_failing_to_configure_never_stops_an_invocation():
    out = _run(INVOCATION, configure="raise RuntimeError('no exporter for InstrumentationKey=0123-secret')")
    assert out.stdout.strip().splitlines()[-1] == "False [False] False"  # it ran, untraced
    assert "Azure Monitor could not be configured" in out.stderr
    assert "RuntimeError: no exporter" in out.stderr
    assert "0123-secret" not in out.stderr  # the error's text is logged redacted


def test_an_async_invocation_waits_for_azure_monitor_without_blocking_the_event_loop():
    out = _run(ASYNC_INVOCATION)
    assert out.stdout.strip().splitlines()[-1] == "True"  # traced, and the loop went on meanwhile
    assert "still being configured" not in out.stderr


def test_a_first_import_of_the_domain_waits_while_azure_monitor_is_still_importing():
    out = _run(FIRST_IMPORT)
    assert out.stdout.strip().splitlines()[-1] == "False True"  # not while configuring, then at once
