"""Start and stop the simulator as a subprocess (for pytest fixtures and the local run script)."""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = REPO_ROOT / "local" / "scenarios" / "demo.json"


class SimulatorStartError(RuntimeError):
    pass


@dataclass
class RunningSimulator:
    """A running simulator: its URL, CA bundle and PID; stop() terminates it by PID and waits."""
    url: str
    ca_bundle: str
    pid: int
    process: subprocess.Popen = field(repr=False)
    token: str = field(repr=False, default="")
    _stderr: list[str] = field(default_factory=list, repr=False)

    def control(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0):
        """Call the /_sim control API; returns the decoded JSON (or None for an empty answer)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        context = ssl.create_default_context(cafile=self.ca_bundle)
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw.strip() else None

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def __enter__(self) -> "RunningSimulator":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def start_simulator(state_dir: str | os.PathLike, *, token: str, scenario: str | os.PathLike | None = None,
                    topic_key: str | None = None, retry_after: int = 1, polls: int = 2,
                    event_subscribers: Iterable[str | dict] = (), port: int = 0,
                    delivery_retry_delays: Iterable[float] | None = None,
                    startup_timeout: float = 20.0) -> RunningSimulator:
    """Start `python -m local.armsim` with the current interpreter and wait for its ready line.

    event_subscribers: webhook URLs (or {"endpoint", "schema"?} dicts) registered, with the Event Grid
    validation handshake, once the simulator is up.
    """
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "local.armsim", "--port", str(port), "--state-dir", str(state_dir),
           "--retry-after", str(retry_after), "--polls", str(polls)]
    if scenario is not None:
        cmd += ["--scenario", str(scenario)]
    if delivery_retry_delays is not None:
        cmd += ["--delivery-retry-delays", ",".join(str(d) for d in delivery_retry_delays)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    # The secrets travel in the child's environment (readable only by its user), never on its command line.
    env["ARMSIM_TOKEN"] = token
    env.pop("ARMSIM_TOPIC_KEY", None)
    if topic_key is not None:
        env["ARMSIM_TOPIC_KEY"] = topic_key
    process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_lines: list[str] = []
    threading.Thread(target=_drain, args=(process.stderr, stderr_lines), daemon=True).start()
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(startup_timeout)
    if not lines or not lines[0].strip():
        _kill(process)
        raise SimulatorStartError(f"armsim did not become ready within {startup_timeout}s "
                                  f"(exit code {process.poll()}): {''.join(stderr_lines)[-2000:]}")
    threading.Thread(target=_drain, args=(process.stdout, []), daemon=True).start()
    ready = json.loads(lines[0])
    sim = RunningSimulator(url=ready["url"], ca_bundle=ready["caBundle"], pid=ready["pid"], process=process,
                           token=token, _stderr=stderr_lines)
    try:
        for subscriber in event_subscribers:
            spec = {"endpoint": subscriber} if isinstance(subscriber, str) else dict(subscriber)
            sim.control("POST", "/_sim/eventgrid/subscriptions", spec)
    except Exception:
        sim.stop()
        raise
    return sim


def _drain(stream, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        if len(sink) < 2000:
            sink.append(line)


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        deadline = time.monotonic() + 5
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
