"""The `aml-lifecycle` command signed in as a pipeline is (AML_LIFECYCLE_AUTH=entra): no stored secret, a token for
the app's scope from the pipeline's Azure CLI sign-in (azure/login with OIDC, AzureCLI@2 on a workload-identity
service connection) through azure-identity. Here a stand-in `az` on PATH prints a token of the dev host's issuer."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import SUB_PROD, rg_id, ws_id

COMMAND = Path(sys.executable).parent / "aml-lifecycle"
SCOPE = "api://tenant/aml-lifecycle-x/.default"


def fake_az(tmp_path: Path) -> Path:
    """`az account get-access-token --output json --scope S`: records its arguments, prints the token file as the
    CLI's JSON (accessToken, expires_on)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/az.calls"\n'
                  f'printf \'{{"accessToken": "%s", "expires_on": {int(time.time()) + 3600}}}\' '
                  f'"$(cat "{tmp_path}/token")"\n')
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def validate(entra_host: Any, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PATH": f"{fake_az(tmp_path) if not (tmp_path / 'bin').exists() else tmp_path / 'bin'}:/usr/bin:/bin",
           "HOME": os.environ.get("HOME", "/tmp"), "AML_LIFECYCLE_ENDPOINT": entra_host.url,
           "AML_LIFECYCLE_SCOPE": SCOPE}
    return subprocess.run([str(COMMAND), "move", "validate", "--workspace", ws_id("ws-computes"),
                           "--target", rg_id(SUB_PROD, "rg-ml-prod"), "-o", "json"],
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_command_signs_in_with_the_pipelines_cli_login_and_no_stored_secret(entra_host: Any,
                                                                                  tmp_path: Path) -> None:
    token = entra_host.token("Moves.Validate", "Moves.Execute", name="release-pipeline", app=True)
    (tmp_path / "token").write_text(token)
    run = validate(entra_host, tmp_path)
    # signed in and let through: the validation itself refuses (a compute instance)
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["ready"] is False
    assert any(c["id"] == "workspace.no-computes" and c["status"] == "failed" for c in report["checks"])
    calls = (tmp_path / "az.calls").read_text().splitlines()
    # azure-identity's AzureCliCredential asks `az account get-access-token` for the scope's resource
    resource = SCOPE.removesuffix("/.default")
    assert calls and all("get-access-token" in c and (f"--resource {resource}" in c or f"--scope {SCOPE}" in c)
                         for c in calls)
    assert token not in run.stdout + run.stderr

    # the same pipeline identity without the role: refused, naming the role it lacks
    (tmp_path / "token").write_text(entra_host.token("Retention.Read", name="release-pipeline", app=True))
    refused = validate(entra_host, tmp_path)
    assert refused.returncode == 2 and "Moves.Validate" in refused.stdout + refused.stderr, refused.stderr
