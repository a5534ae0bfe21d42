"""Fixtures for the notification tests: an incoming-webhook receiver on loopback, and the app on a dev host."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Webhook:
    """A loopback stand-in for a Teams Workflows / Slack incoming webhook: records every POST; answers `script`
    (status codes, then 200) in order."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    script: list[tuple[int, dict]] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with hook.lock:
                hook.attempts += 1
                status, headers = hook.script.pop(0) if hook.script else (200, {})
                if status == 200:
                    hook.received.append({"path": self.path, "contentType": self.headers.get("Content-Type"),
                                          "body": json.loads(raw)})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/workflows/abc/triggers/manual?sig=s3cr3t"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def notifying_host(app_env: dict, sim: Any, tmp_path: Any, webhook: Webhook) -> Iterator[Any]:
    """The real app on the dev host (keys), posting alerts to the loopback webhook."""
    from local.devhost.process import start_devhost

    env = {**app_env, "REQUESTS_CA_BUNDLE": sim.ca_bundle, "AzureWebJobsStorage": None,
           "AML_LIFECYCLE_NOTIFY_WEBHOOK_URL": webhook.url, "AML_LIFECYCLE_PUBLIC_URL": "https://func-api-demo.azurewebsites.net",
           "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *", "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 0 0 1 1 *"}
    with start_devhost("function_app:app", app_dir=tmp_path, env=env, timeout=60) as host:
        yield host
