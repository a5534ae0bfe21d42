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
                             "--state-dir", str(tmp_path), "--retry-after", "1", "--polls", "2"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ARMSIM_TOKEN": "t"})
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


def test_secrets_are_not_on_the_command_line(tmp_path):
    token, topic_key = "tok-" + os.urandom(8).hex(), "key-" + os.urandom(8).hex()
    with start_simulator(tmp_path, token=token, topic_key=topic_key, scenario=SCENARIO) as sim:
        with open(f"/proc/{sim.pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().decode()
        assert token not in argv and topic_key not in argv
        assert sim.control("GET", "/_sim/state") is not None  # it runs, with the token from its environment


def test_token_file_must_be_owner_only(tmp_path):
    from local.armsim.__main__ import read_secret

    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    try:
        read_secret(secret, "ARMSIM_TOKEN", {})
    except SystemExit as refused:
        assert "chmod 600" in str(refused)
    else:
        raise AssertionError("a world-readable token file was accepted")
    secret.chmod(0o600)
    assert read_secret(secret, "ARMSIM_TOKEN", {"ARMSIM_TOKEN": "env"}) == "s3cret"
    assert read_secret(None, "ARMSIM_TOKEN", {"ARMSIM_TOKEN": "env"}) == "env"
    assert read_secret(None, "ARMSIM_TOKEN", {}) is None
