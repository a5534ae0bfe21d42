"""The app under an OpenTelemetry in-memory exporter: one span per invocation, Azure SDK calls as its children."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import TOPIC, ws_id

REPO_ROOT = Path(__file__).resolve().parents[2]

TABLE_SPAN_HINT = "devstoreaccount1"  # Azurite's account: every Table Storage call's URL carries it



def url_of(span: Any) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def descendants(root: Any, finished: list[Any]) -> list[Any]:
    """Spans whose parent chain reaches `root` (same trace), in start order."""
    by_id = {s.context.span_id: s for s in finished}
    found = []
    for span in finished:
        parent = span.parent
        while parent is not None and parent.span_id != root.context.span_id:
            parent = by_id[parent.span_id].parent if parent.span_id in by_id else None
        if parent is not None:
            found.append(span)
    return sorted(found, key=lambda s: s.start_time)


def only_root(finished: list[Any], name: str) -> Any:
    [root] = [s for s in finished if s.name == name and s.parent is None]
    return root


def test_one_event_is_a_span_with_its_fields_over_storage_then_topic_calls(
    functions, app_env, sim, spans, monkeypatch
):
    from opentelemetry.trace import SpanKind

    from tests.retention.conftest import delivered, event_body, recent

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle)  # the alerts topic client trusts the simulator's CA
    body = event_body("delete", "ws-traced", at=recent(), event_id="evt-traced-1")
    functions["workspace_events"].get_user_function()(delivered(body))

    finished = list(spans.get_finished_spans())
    root = only_root(finished, "workspace_events")
    workspace = ws_id("ws-traced").lower()
    assert root.attributes["faas.trigger"] == "pubsub"
    assert root.attributes["eventId"] == "evt-traced-1"
    assert root.attributes["workspaceId"].lower() == workspace
    assert root.attributes["state"] == "SoftDeleted"
    assert root.attributes["alertType"] == "AmlLifecycle.Workspace.SoftDeleted" and root.attributes["alertId"]

    calls = [s for s in descendants(root, finished) if s.kind is SpanKind.CLIENT]
    storage = [s for s in calls if TABLE_SPAN_HINT in url_of(s)]
    topic = [s for s in calls if f"/_sim/topics/{TOPIC}/api/events" in url_of(s)]
    assert storage and topic, [(s.name, url_of(s)) for s in calls]
    assert storage[0].start_time < topic[0].start_time  # the row is stored before the alert goes out
    assert all(s.context.trace_id == root.context.trace_id for s in calls)


def test_one_activity_is_a_span_with_the_move_over_its_arm_calls(functions, app_env, sim, spans):
    from opentelemetry.trace import SpanKind

    from shared.azure.clients import get_clients
    from shared.moves.launch import record_start
    from tests.moves.conftest import make_plan

    plan = make_plan("ws-quiet")
    record_start(get_clients(), plan)
    functions["move_snapshot"].get_user_function()({"plan": plan.to_json()})

    finished = list(spans.get_finished_spans())
    root = only_root(finished, "move_snapshot")
    assert root.attributes["faas.trigger"] == "other"
    assert root.attributes["moveId"] == plan.move_id
    assert root.attributes["workspaceId"] == ws_id("ws-quiet")
    arm = [s for s in descendants(root, finished)
           if s.kind is SpanKind.CLIENT and url_of(s).startswith(sim.url + "/subscriptions/")]
    assert arm, [(s.name, url_of(s)) for s in finished]
    assert any("ws-quiet" in url_of(s) for s in arm)
    assert all(s.attributes.get("http.response.status_code", s.attributes.get("http.status_code")) for s in arm)


def test_an_http_request_is_a_span_with_method_path_and_status(functions, app_env, spans):
    from tests.conftest import call_http

    response = call_http(functions, "retention_list", url="http://localhost/api/retention?code=not-logged",
                         params={"code": "not-logged"})
    assert response.status_code == 200
    root = only_root(list(spans.get_finished_spans()), "retention_list")
    assert root.attributes["faas.trigger"] == "http"
    assert root.attributes["http.request.method"] == "GET"
    assert root.attributes["url.path"] == "/api/retention"  # never the query string (a key may be there)
    assert not any("not-logged" in str(v) for v in root.attributes.values())
    assert root.attributes["http.response.status_code"] == 200


def _probe(code: str, **env: str) -> str:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATIONINSIGHTS_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, check=True,
                          capture_output=True, text=True, timeout=120).stdout.strip()


def test_without_a_connection_string_no_telemetry_package_is_imported():
    out = _probe("import sys, function_app\n"
                 "print(sorted({m.split('.')[0] + '.' + m.split('.')[1] for m in sys.modules"
                 " if m.startswith(('azure.monitor', 'opentelemetry.sdk', 'opentelemetry.instrumentation'))}))")
    assert out == "[]"


def test_with_a_connection_string_azure_monitor_is_configured_once_with_sdk_tracing():
    code = (
        "import function_app\n"
        "from shared import telemetry\n"
        "from azure.core.settings import settings\n"
        "telemetry.wait_until_ready()\n"
        "print(telemetry.has_tracer_provider(), settings.tracing_implementation().__name__,"
        " telemetry.configure())\n"
    )
    out = _probe(code, APPLICATIONINSIGHTS_CONNECTION_STRING=(
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/"),
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL="true")
    # started at import, configured on its own thread; a second configure() is a no-op
    assert out.splitlines()[-1] == "True OpenTelemetrySpan False"
