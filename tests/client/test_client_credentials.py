"""Which credential the command sends, from the environment or flags (client/aml_lifecycle_client/credentials.py),
checked at a recording HTTP server on loopback: a key as x-functions-key, a token as a bearer, both when both."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from tests.client.conftest import COMMAND


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps({"status": "healthy", "checks": {"storage": {"status": "ok", "detail": "-"}}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([str(COMMAND), *args], env=environment, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_key_token_and_both(recorder):
    url, seen = recorder
    assert run("health", AML_LIFECYCLE_ENDPOINT=url, AML_LIFECYCLE_FUNCTION_KEY="k-123").returncode == 0
    assert seen[-1]["x-functions-key"] == "k-123" and "authorization" not in seen[-1]
    done = run("health", AML_LIFECYCLE_ENDPOINT=url + "/api/", AML_LIFECYCLE_TOKEN="t-456")
    assert done.returncode == 0 and "t-456" not in done.stdout + done.stderr
    assert seen[-1]["authorization"] == "Bearer t-456" and "x-functions-key" not in seen[-1]
    assert run("health", "--token", "t-789", AML_LIFECYCLE_ENDPOINT=url, AML_LIFECYCLE_FUNCTION_KEY="k-1").returncode == 0
    assert seen[-1]["authorization"] == "Bearer t-789" and seen[-1]["x-functions-key"] == "k-1"


def test_no_credential_and_plain_http_to_a_remote_host_are_refused_before_any_request(recorder):
    url, seen = recorder
    none = run("health", AML_LIFECYCLE_ENDPOINT=url)
    assert none.returncode == 2 and "no credential" in none.stderr and "AML_LIFECYCLE_TOKEN" in none.stderr
    remote = run("health", AML_LIFECYCLE_ENDPOINT="http://app.example.com", AML_LIFECYCLE_FUNCTION_KEY="k")
    assert remote.returncode == 2 and "plain http" in remote.stderr
    assert seen == []
