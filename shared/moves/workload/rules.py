"""Preflight under `"quiesce": true`: computes, online endpoints (and, with cancelJobs, active jobs) turn from
blockers into warnings saying what will be removed and re-created; ARM's validation then runs after the quiesce."""

from __future__ import annotations

from shared.moves.preflight.rules import FAILED, MOVE_DOC, WARNING, CheckResult
from shared.moves.snapshot import MoveSnapshot

KNOWN_ISSUE_DOC = (
    "https://learn.microsoft.com/azure/machine-learning/known-issues/workspace-move-compute-instance-same-name"
)
# The checks quiescing solves, and the warning each becomes.
_SOFTENED = {
    "workspace.no-computes": (
        (
            "{n} compute(s) will be removed before the move and re-created after it from their definitions "
            "(clusters under their names, compute instances under a new name, attached computes re-attached): {names}"
        ),
        (
            f"nothing to do; compute instances cannot keep their name after a move ({KNOWN_ISSUE_DOC}): the move's "
            "status lists old -> new names"
        ),
    ),
    "workspace.no-online-endpoints": (
        (
            "{n} online endpoint(s) will be removed before the move and re-created after it with their deployments "
            "and traffic split; their keys are regenerated (scoring URIs stay): {names}"
        ),
        "give callers the endpoints' new keys after the move (keys are never copied)",
    ),
}
_JOBS = "workspace.no-active-jobs"


def apply(snapshot: MoveSnapshot, checks: list[CheckResult]) -> list[CheckResult]:
    """The checks as they stand with quiesce asked for (unchanged without it)."""
    request = snapshot.request
    if not request.quiesce:
        return checks
    out = []
    for check in checks:
        names = ", ".join(str(i.get("name")) for i in check.items[:10])
        if check.id in _SOFTENED and check.status == FAILED:
            message, remediation = _SOFTENED[check.id]
            out.append(CheckResult(check.id, WARNING, message.format(n=len(check.items), names=names), remediation,
                                   check.items))
        elif check.id == _JOBS and check.status == FAILED and request.cancel_jobs:
            out.append(CheckResult(check.id, WARNING, f"{len(check.items)} active job(s) will be canceled before "
                                   f"the move and not restarted: {names}", "resubmit them after the move if needed",
                                   check.items))
        elif check.id == _JOBS and check.status == FAILED:
            out.append(CheckResult(check.id, FAILED, check.message, "add \"cancelJobs\": true to cancel them as "
                                   f"part of the quiesce, or wait for them to finish. See {MOVE_DOC}", check.items))
        else:
            out.append(check)
    return out


def defers_arm_validation(checks: list[CheckResult]) -> bool:
    """Whether ARM's validation must wait for the quiesce (it refuses while computes or endpoints exist)."""
    return any(c.status == WARNING and (c.id in _SOFTENED or c.id == _JOBS) for c in checks)
