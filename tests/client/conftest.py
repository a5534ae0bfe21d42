"""The installed `aml-lifecycle` command against a dev host serving the real app (move waits shrunk), with the
simulator's Event Grid subscription on its webhook and the inventory backfilled, as `make run` sets it up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "aml-lifecycle"  # installed into .venv by `make setup`
EXAMPLES = ROOT / "examples" / "pipelines"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def client_stack(app_env: dict, sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dev host (tests/moves/fast_app.py) on Azurite and the simulator, events wired, inventory backfilled."""
    import requests

    from local.devhost.process import start_devhost
    from shared.moves.preflight import validation as move_validation

    monkeypatch.setattr(move_validation, "ARM_POLL_SECONDS", 0.05)
    env = {**app_env, "REQUESTS_CA_BUNDLE": sim.ca_bundle, "AzureWebJobsStorage": None}
    with start_devhost("tests.moves.fast_app:app", app_dir=tmp_path, env=env, timeout=60) as host:
        webhook = f"{host.url}/runtime/webhooks/eventgrid?functionName=workspace_events&code={host.eventgrid_key}"
        sim.control("POST", "eventgrid/subscriptions", json={"endpoint": webhook})
        answer = requests.post(f"{host.url}/api/inventory/backfill", json={}, headers={"x-functions-key": host.key},
                               timeout=120)
        assert answer.status_code == 200, answer.text
        yield host


@pytest.fixture
def credential_env(client_stack: Any) -> dict[str, str]:
    """How the command authenticates to the stack: the one place to change when the app moves to tokens."""
    return {"AML_LIFECYCLE_ENDPOINT": client_stack.url, "AML_LIFECYCLE_FUNCTION_KEY": client_stack.key}


@pytest.fixture
def secrets_of(client_stack: Any, credential_env: dict[str, str]) -> tuple[str, ...]:
    """Values no output may contain."""
    return tuple(v for k, v in credential_env.items() if k != "AML_LIFECYCLE_ENDPOINT") + (client_stack.key,)


@pytest.fixture
def aml(credential_env: dict[str, str], secrets_of: tuple[str, ...]):
    """Run the installed command (not imported: what a user runs), never on a terminal; no secret in its output."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Result:
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
                       **credential_env, **(env or {})}
        done = subprocess.run([str(COMMAND), *args], env=environment, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        for secret in secrets_of:
            assert secret not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return Result(done.returncode, done.stdout, done.stderr)

    return run
