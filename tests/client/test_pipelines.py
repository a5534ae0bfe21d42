"""The GitHub Action (action.yml) and the Azure Pipelines template run as their scripts against the local stack,
with GITHUB_STEP_SUMMARY / GITHUB_OUTPUT (or an agent temp folder) set: what a reader of the run would see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.client.conftest import EXAMPLES, ROOT
from tests.conftest import SUB_DEV, SUB_PROD, rg_id, ws_id

ACTION = ROOT / "action.yml"
TEMPLATE = EXAMPLES / "azure-pipelines" / "move-workspace-steps.yml"
PROD = rg_id(SUB_PROD, "rg-ml-prod")
DEV2 = rg_id(SUB_DEV, "rg-ml-dev-2")


def action_script() -> tuple[str, dict]:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    (step,) = [s for s in steps if s.get("id") == "move"]
    return step["run"], step["env"]


def template_script() -> str:
    steps = yaml.safe_load(TEMPLATE.read_text())["steps"]
    (step,) = [s for s in steps if s.get("name") == "move"]
    assert step["task"] == "AzureCLI@2"  # signed in through the OIDC service connection
    return step["inputs"]["inlineScript"]


def move_env(workspace: str, target: str, **extra: str) -> dict[str, str]:
    """The values the action's inputs / the template's parameters put in the step's env."""
    return {"MOVE_WORKSPACE": workspace, "MOVE_TARGET": target, "MOVE_INCLUDE": "", "MOVE_ASSOCIATED": "false",
            "MOVE_CREATE_TARGET": "false", "MOVE_APPROVE": "pre-existing", "MOVE_FIX_DATASTORES": "true",
            "MOVE_RECREATE_ROLES": "false", "MOVE_QUIESCE": "false", "MOVE_CANCEL_JOBS": "false",
            "MOVE_POLL_SECONDS": "0.3", "MOVE_TIMEOUT_MINUTES": "3", **extra}


@pytest.fixture
def run_step(credential_env: dict[str, str], secrets_of: tuple[str, ...], tmp_path: Path):
    def run(script: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict[str, Path]]:
        files = {"summary": tmp_path / "summary.md", "output": tmp_path / "output.txt"}
        for f in files.values():
            f.write_text("")
        environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
                       "AML_LIFECYCLE_BIN": str(Path(sys.executable).parent), "GITHUB_ACTIONS": "true",
                       "GITHUB_STEP_SUMMARY": str(files["summary"]), "GITHUB_OUTPUT": str(files["output"]),
                       "AGENT_TEMPDIRECTORY": str(tmp_path), "AML_LIFECYCLE_TOKEN": "", "AML_LIFECYCLE_SCOPE": "",
                       **credential_env, **env}
        done = subprocess.run(["bash", "-c", script], env=environment, capture_output=True, text=True, timeout=240)
        for secret in secrets_of:
            assert secret not in done.stdout + done.stderr + files["summary"].read_text()
        assert "Traceback" not in done.stderr
        return done, files

    return run


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_action_moves_a_workspace_through_a_slow_validation(run_step, sim):
    sim.control("POST", "settings", json={"validationSeconds": 4})  # ARM slower than the app's bound: a 202
    script, env = action_script()
    assert set(move_env("", "")) <= set(env)  # every variable the test sets is one the action sets
    done, files = run_step(script, move_env(ws_id("ws-twin"), DEV2))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "waiting for ARM's validateMoveResources" in done.stderr
    summary = files["summary"].read_text()
    assert "**Outcome: Succeeded**" in summary and "| `workspace.no-computes` | ✅ passed |" in summary
    assert "Nothing is left to do." in summary
    out = outputs(files["output"])
    assert out["state"] == "Succeeded" and out["moveId"].startswith("move-")
    assert out["targetWorkspaceId"] == ws_id("ws-twin", rg="rg-ml-dev-2")


def test_action_fails_on_failed_checks_with_annotations_and_starts_nothing(run_step):
    script, _ = action_script()
    done, files = run_step(script, move_env(ws_id("ws-computes"), PROD))
    assert done.returncode == 1
    assert "::error title=check workspace.no-computes::" in done.stdout
    summary = files["summary"].read_text()
    assert "**Outcome: Not ready**" in summary and "| `workspace.no-computes` | ❌ failed |" in summary
    assert outputs(files["output"]) == {"moveId": "", "state": "NotReady", "targetWorkspaceId": ""}


def test_action_warns_when_the_move_needs_attention(run_step):
    script, _ = action_script()
    done, files = run_step(script, move_env(ws_id("ws-private"), PROD))
    assert done.returncode == 0, done.stdout + done.stderr  # a warning, not a failure
    assert "::warning title=aml-lifecycle::move " in done.stdout and "needs attention" in done.stdout
    summary = files["summary"].read_text()
    assert "**Outcome: Needs attention**" in summary and "### Left to do" in summary
    assert "az rest --method put" in summary
    assert outputs(files["output"])["state"] == "NeedsAttention"


def test_template_ends_succeeded_with_issues_when_the_move_needs_attention(run_step, tmp_path):
    done, _ = run_step(template_script(), move_env(ws_id("ws-private"), PROD))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "##vso[task.complete result=SucceededWithIssues;]" in done.stdout
    assert "##vso[task.setvariable variable=state;isOutput=true]NeedsAttention" in done.stdout
    (uploaded,) = [line.split("]", 1)[1] for line in done.stdout.splitlines() if "##vso[task.uploadsummary]" in line]
    assert Path(uploaded).parent == tmp_path and "### Left to do" in Path(uploaded).read_text()


def test_template_fails_the_job_on_failed_checks(run_step):
    done, _ = run_step(template_script(), move_env(ws_id("ws-computes"), PROD))
    assert done.returncode == 1
    assert "##vso[task.logissue type=error]check workspace.no-computes: " in done.stdout
    assert "##vso[task.complete" not in done.stdout


def _scripts(node: Any) -> list[str]:
    """Every shell script text in a workflow / action / template (GitHub `run`, Azure Pipelines `bash`/`script`)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "bash", "script", "inlineScript") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_scripts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_scripts(item))
    return found


@pytest.mark.parametrize("path", [str(ACTION.relative_to(ROOT))]
                         + sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*.yml")))
def test_yaml_passes_inputs_and_the_key_through_env_only(path: str) -> None:
    text = (ROOT / path).read_text()
    for script in _scripts(yaml.safe_load(text)):
        assert "${{" not in script, f"{path}: template expressions inside a script invite injection: {script!r}"
        assert "secrets." not in script and "FunctionKey" not in script  # the key reaches the script as env only
    assert "set -x" not in text


def test_action_moves_a_busy_workspace_with_quiesce(run_step):
    from tests.moves.busy_workspace import make_busy

    make_busy(ws_id("ws-twin"))
    script, _ = action_script()
    blocked, files = run_step(script, move_env(ws_id("ws-twin"), DEV2))
    assert blocked.returncode == 1 and "::error title=check workspace.no-computes::" in blocked.stdout

    moved, files = run_step(script, move_env(ws_id("ws-twin"), DEV2, MOVE_QUIESCE="true"))
    assert moved.returncode == 0, moved.stdout + moved.stderr
    summary = files["summary"].read_text()
    assert "| `workspace.no-computes` | ⚠️ warning |" in summary  # what will be removed, said up front
    assert "**Outcome: Succeeded**" in summary
