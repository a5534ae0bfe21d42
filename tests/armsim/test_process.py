"""The CLI ready line, start_simulator with subscribers, and a clean shutdown on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from local.armsim.process import REPO_ROOT, start_simulator

from .conftest import SCENARIO, wait_for


def test_cli_prints_one_ready_line_and_stops_cleanly_on_sigterm(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "local.armsim", "--port", "0", "--scenario", str(SCENARIO),
                             "--state-dir", str(tmp_path), "--token", "t", "--retry-after", "1", "--polls", "2"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert set(ready) == {"url", "caBundle", "pid"}
        assert ready["url"].startswith("https://127.0.0.1:") and ready["pid"] == proc.pid
        assert open(ready["caBundle"]).read().startswith("-----BEGIN CERTIFICATE-----")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert (tmp_path / "state.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_start_simulator_registers_subscribers(tmp_path, receiver):
    with start_simulator(tmp_path, token="t", scenario=SCENARIO, retry_after=0,
                         event_subscribers=[receiver.url]) as sim:
        assert receiver.handshakes
        assert [s["endpoint"] for s in sim.control("GET", "/_sim/eventgrid/subscriptions")] == [receiver.url]
        pid = sim.pid
    wait_for(lambda: sim.process.poll() is not None)
    assert sim.process.returncode == 0
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive
