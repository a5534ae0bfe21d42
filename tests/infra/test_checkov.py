"""checkov on infra/, offline, from its own venv (infra/scan.sh): no failed check, every skip has a reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.infra.conftest import BICEP_FILES, INFRA, REPO

CHECKED_FILES = (
    "/app/function-app.bicep",
    "/app/storage.bicep",
    "/app/alerts-topic.bicep",
    "/app/role-definition.bicep",
)


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory) -> dict:
    if shutil.which("sha256sum") is None:
        pytest.skip("infra/scan.sh needs sha256sum")
    out = tmp_path_factory.mktemp("checkov")
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        [str(INFRA / "scan.sh"), "--output", "json", "--output-file-path", str(out), "--soft-fail"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads((out / "results_json.json").read_text())
    reports = report if isinstance(report, list) else [report]
    return {r["check_type"]: r for r in reports}


@pytest.mark.timeout(600)
def test_checkov_parses_every_bicep_file(checkov_report):
    bicep = checkov_report["bicep"]
    assert bicep["summary"]["parsing_errors"] == 0, bicep["results"]["parsing_errors"]
    results = bicep["results"]
    scanned = {c["file_path"] for kind in ("passed_checks", "skipped_checks", "failed_checks") for c in results[kind]}
    # every file holding a resource type checkov has checks for shows up in the report
    for rel in CHECKED_FILES:
        assert rel in scanned, rel
    assert bicep["summary"]["resource_count"] >= len(BICEP_FILES)


@pytest.mark.timeout(600)
def test_checkov_has_no_failed_check(checkov_report):
    failed = [
        f'{c["check_id"]} {c["resource"]} {c["file_path"]}:{c["file_line_range"]}'
        for report in checkov_report.values()
        for c in report["results"]["failed_checks"]
    ]
    assert failed == []


@pytest.mark.timeout(600)
def test_every_skip_is_inline_with_a_reason(checkov_report):
    for report in checkov_report.values():
        for check in report["results"]["skipped_checks"]:
            reason = (check.get("check_result") or {}).get("suppress_comment") or ""
            assert len(reason) >= 20, f'{check["check_id"]} on {check["resource"]} is skipped without a reason'
