"""Starts the dev host as a subprocess (for tests and scripts), waits for its ready line, stops it by PID."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningDevHost:
    """A dev host subprocess: its base URL, keys (function, master, extension system keys), PID, indexed functions
    and log file."""

    url: str
    key: str = field(repr=False)
    pid: int
    functions: list[dict]
    log_path: str
    process: subprocess.Popen = field(repr=False)
    master_key: str = field(default="", repr=False)
    system_keys: dict[str, str] = field(default_factory=dict, repr=False)
    rpc_url: str = ""  # the Durable RPC listener (loopback, its own port; the SDK's rpcBaseUrl)
    auth: str = "keys"
    issuer_file: str = ""

    def token(self, *roles: str, name: str = "alice@contoso.com", app: bool = False, **options: object) -> str:
        """A token from this dev host's local issuer (AML_LIFECYCLE_AUTH=entra) for `roles` and `name`."""
        from local.issuer import LocalIssuer

        return LocalIssuer.load(self.issuer_file).mint(list(roles), name, app=app, **options)

    def caller_headers(self, *roles: str, name: str = "alice@contoso.com") -> dict[str, str]:
        """What a caller sends to /api: a bearer token with `roles` under entra, the function key under keys."""
        if self.auth == "entra":
            return {"Authorization": f"Bearer {self.token(*roles, name=name)}"}
        return {"x-functions-key": self.key}

    @property
    def durable_key(self) -> str:
        """The `durabletask_extension` system key (the Durable HTTP API)."""
        return self.system_keys["durabletask_extension"]

    @property
    def eventgrid_key(self) -> str:
        """The `eventgrid_extension` system key (the Event Grid webhook)."""
        return self.system_keys["eventgrid_extension"]

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (graceful: work in flight resumes on the next start), SIGKILL if it does not exit in time."""
        return self._signal(signal.SIGTERM, timeout)

    def kill(self, timeout: float = 15.0) -> int:
        """SIGKILL: simulates a crash (durable state on disk is what a restart resumes from)."""
        return self._signal(signal.SIGKILL, timeout)

    def _signal(self, signum: int, timeout: float) -> int:
        if self.process.poll() is None:
            os.kill(self.pid, signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout)
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode

    def logs(self) -> str:
        return Path(self.log_path).read_text(encoding="utf-8", errors="replace") if os.path.exists(self.log_path) else ""

    def __enter__(self) -> "RunningDevHost":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_devhost(app: str = "function_app:app", *, app_dir: str | os.PathLike | None = None, port: int = 0,
                  settings: str | os.PathLike | None = None, env: dict[str, str | None] | None = None,
                  timeout: float = 30.0, log_path: str | None = None, python: str = sys.executable,
                  openapi: str | os.PathLike | None = None) -> RunningDevHost:
    """Start `python -m local.devhost` and return once it printed its ready line (or raise with its log)."""
    app_dir = Path(app_dir or ROOT).resolve()
    log_path = log_path or tempfile.mkstemp(prefix="devhost-", suffix=".log")[1]
    command = [python, "-m", "local.devhost", "--app", app, "--app-dir", str(app_dir), "--port", str(port)]
    if settings is not None:
        command += ["--settings", str(settings)]
    if openapi is not None:
        command += ["--openapi", str(openapi)]
    environment = dict(os.environ)
    for name, value in (env or {}).items():  # None unsets a variable
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), environment.get("PYTHONPATH")) if p)
    environment["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(command, cwd=str(app_dir), env=environment, stdout=subprocess.PIPE,
                                   stderr=log_file, stdin=subprocess.DEVNULL)
    try:
        ready = _read_ready_line(process, timeout)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        raise
    return RunningDevHost(ready["url"], ready["functionKey"], process.pid, ready["functions"], log_path, process,
                          ready.get("masterKey", ""), ready.get("systemKeys") or {}, ready.get("rpcUrl", ""),
                          ready.get("auth", "keys"), ready.get("issuerFile", ""))


def _read_ready_line(process: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
                if process.poll() is not None:
                    break
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    document = json.loads(line)
                except ValueError:
                    continue
                if isinstance(document, dict) and "url" in document and "functionKey" in document:
                    return document
    finally:
        selector.close()
    code = process.poll()
    raise RuntimeError(f"dev host (pid {process.pid}) gave no ready line within {timeout:.0f}s"
                       + (f"; it exited with {code}" if code is not None else ""))
