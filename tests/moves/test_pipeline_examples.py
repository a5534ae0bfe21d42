"""The example pipelines: their script run against the dev host (exit code, log, no key), and their YAML hygiene."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"


def run_script(host: Any, body: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    body_file = tmp_path / "move.json"
    body_file.write_text(json.dumps(body))
    env = {
        "PATH": "/usr/bin:/bin",
        "AML_LIFECYCLE_URL": host.url,
        "AML_LIFECYCLE_FUNCTION_KEY": host.key,
        "MOVE_BODY_FILE": str(body_file),
        "POLL_SECONDS": "0.2",
        "TIMEOUT_MINUTES": "2",
        "GITHUB_ACTIONS": "true",
    }
    return subprocess.run(["bash", str(EXAMPLES / "move.sh")], env=env, capture_output=True, text=True, timeout=180)


def test_script_follows_moves_and_fails_the_run_unless_succeeded(fast_devhost: Any, tmp_path: Path) -> None:
    ok = run_script(
        fast_devhost,
        {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")},
        tmp_path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "== result: Succeeded" in ok.stdout and "moved to " + ws_id("ws-twin", rg="rg-ml-dev-2") in ok.stdout

    attention = run_script(
        fast_devhost,
        {"workspaceId": ws_id("ws-private"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")},
        tmp_path,
    )
    assert attention.returncode == 1
    assert "== result: NeedsAttention" in attention.stdout and "TODO\treview-private-endpoint" in attention.stdout
    assert "::error::" in attention.stdout

    blocked = run_script(
        fast_devhost,
        {"workspaceId": ws_id("ws-computes"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")},
        tmp_path,
    )
    assert blocked.returncode == 1 and "workspace.no-computes" in blocked.stdout + blocked.stderr
    assert "== start" not in blocked.stdout  # stopped at validation: nothing started

    for run in (ok, attention, blocked):
        assert fast_devhost.key not in run.stdout + run.stderr


def _scripts(node: Any) -> list[str]:
    """Every shell script text in a workflow / template (GitHub `run`, Azure Pipelines `bash` / `script`)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "bash", "script") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_scripts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_scripts(item))
    return found


@pytest.mark.parametrize("path", sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.yml")))
def test_yaml_passes_inputs_and_the_key_through_env_only(path: str) -> None:
    text = (EXAMPLES / path).read_text()
    document = yaml.safe_load(text)
    for script in _scripts(document):
        assert "${{" not in script, f"{path}: template expressions inside a script invite injection: {script!r}"
        assert "secrets." not in script and "FunctionKey" not in script  # the key reaches the script as env only
    assert "set -x" not in text


def test_script_moves_a_busy_workspace_with_quiesce(fast_devhost: Any, sim: Any, tmp_path: Path) -> None:
    from tests.moves.busy_workspace import INSTANCE, make_busy

    make_busy(ws_id("ws-twin"))
    body = {"workspaceId": ws_id("ws-twin"), "targetResourceGroupId": rg_id(SUB_DEV, "rg-ml-dev-2")}
    blocked = run_script(fast_devhost, body, tmp_path)
    assert blocked.returncode == 1 and "workspace.no-computes" in blocked.stdout + blocked.stderr

    moved = run_script(fast_devhost, {**body, "quiesce": True}, tmp_path)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "WARNING\tworkspace.no-computes" in moved.stdout  # the validation says what will be removed
    assert "== result: Succeeded" in moved.stdout
    assert f"RENAMED\tcompute instance {INSTANCE} -> {INSTANCE}-" in moved.stdout
    assert "WORKLOAD\ttraffic\tep-score\trestored" in moved.stdout
    assert fast_devhost.key not in moved.stdout + moved.stderr
