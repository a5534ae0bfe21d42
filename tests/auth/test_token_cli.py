"""`python -m local.token`: only the token on stdout (for `export AML_LIFECYCLE_TOKEN=$(...)`), accepted by the dev
host for the roles asked; a typo in a role is refused at once."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.auth.conftest import call


def token_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "local.token", *args], capture_output=True, text=True, timeout=60)


def test_the_printed_token_signs_alice_in_with_the_roles_asked(entra_host: Any) -> None:
    run = token_cli("--roles", "Moves.Execute", "Retention.Read", "--name", "alice@contoso.com",
                    "--issuer-file", entra_host.issuer_file)
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    assert run.stdout == token + "\n" and token.count(".") == 2
    headers = {"Authorization": f"Bearer {token}"}
    assert call("GET", f"{entra_host.url}/api/health", headers).status_code == 200
    refused = call("POST", f"{entra_host.url}/api/moves/validate", headers)
    assert refused.status_code == 403 and "alice@contoso.com lacks the app role Moves.Validate" in refused.text


def test_a_misspelt_role_or_a_missing_issuer_says_what_to_do(tmp_path: Any) -> None:
    typo = token_cli("--roles", "Moves.Exec", "--issuer-file", str(tmp_path / "none.json"))
    assert typo.returncode == 2 and "Moves.Execute" in typo.stderr and typo.stdout == ""
    missing = token_cli("--roles", "all", "--issuer-file", str(tmp_path / "none.json"))
    assert missing.returncode == 1 and "make run" in missing.stderr and missing.stdout == ""
