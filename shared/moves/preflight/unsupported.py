"""Checks for what the move page lists as not supported but ARM cannot show: deployed (v1) services, data profiling."""

from __future__ import annotations

from shared.moves.preflight.rules import MOVE_DOC, WARNING, CheckResult, result
from shared.moves.snapshot import MoveSnapshot

# The 2025-09-01 Microsoft.MachineLearningServices spec has no operation listing v1 deployed services (ACI/AKS web
# services) or dataset profiling runs: both live on the workspace's data plane, so these are warnings saying how to
# verify, not checks.
NO_DEPLOYED_SERVICES = "workspace.no-deployed-services"
NO_DATA_PROFILING = "workspace.no-data-profiling"


def workspace_no_deployed_services(s: MoveSnapshot) -> CheckResult:
    return result(
        NO_DEPLOYED_SERVICES, WARNING,
        "deployed (v1) web services cannot be verified: ARM has no operation that lists them",
        remediation="list them with `az ml service list -w <workspace> -g <group>` (CLI v1) or the studio's Endpoints "
        f"page, delete each one, and deploy it again after the move. See {MOVE_DOC}",
    )


def workspace_no_data_profiling(s: MoveSnapshot) -> CheckResult:
    return result(
        NO_DATA_PROFILING, WARNING,
        "data profiling jobs cannot be verified: ARM has no operation that lists dataset profile runs",
        remediation="in the studio's Jobs page (All experiments) make sure no dataset profiling run is queued or "
        f"running before the move. See {MOVE_DOC}",
    )
