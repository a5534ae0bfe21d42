"""The example pipeline script signed in as a pipeline would be (AML_LIFECYCLE_AUTH=entra): a token per request from
`az account get-access-token --scope` (here a stand-in `az` on PATH printing a token of the dev host's issuer)."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import SUB_PROD, rg_id, ws_id

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "move.sh"


def fake_az(tmp_path: Path, token: str) -> Path:
    """`az account get-access-token --scope S --query accessToken -o tsv`: records the scope, prints the token."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "token").write_text(token)
    az = bin_dir / "az"
    az.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/az.calls"\ncat "{tmp_path}/token"\n')
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_the_pipeline_script_signs_each_request_with_a_fresh_token(entra_host: Any, tmp_path: Path) -> None:
    token = entra_host.token("Moves.Validate", "Moves.Execute", name="release-pipeline", app=True)
    body = tmp_path / "move.json"
    body.write_text(json.dumps({"workspaceId": ws_id("ws-computes"), "targetResourceGroupId": rg_id(SUB_PROD, "rg-ml-prod")}))
    env = {"PATH": f"{fake_az(tmp_path, token)}:/usr/bin:/bin", "AML_LIFECYCLE_URL": entra_host.url,
           "AML_LIFECYCLE_API_SCOPE": "api://tenant/aml-lifecycle-x/.default", "MOVE_BODY_FILE": str(body),
           "POLL_SECONDS": "0.2", "TIMEOUT_MINUTES": "1"}
    run = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    # signed in and let through: the validation itself refuses (a compute instance), nothing is started
    assert run.returncode == 1 and "workspace.no-computes" in run.stdout + run.stderr, run.stdout + run.stderr
    assert "== start" not in run.stdout
    calls = (tmp_path / "az.calls").read_text().splitlines()
    assert calls and all("--scope api://tenant/aml-lifecycle-x/.default" in c for c in calls)
    assert token not in run.stdout + run.stderr

    (tmp_path / "token").write_text(entra_host.token("Retention.Read", name="release-pipeline", app=True))
    refused = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Moves.Validate" in refused.stdout + refused.stderr
